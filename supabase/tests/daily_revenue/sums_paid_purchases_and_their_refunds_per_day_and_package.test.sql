begin;
select plan(1);
-- Hand-made purchases far in the future (2031), so the days checked hold nothing but them; rolled back.
create temp table k as select gen_random_uuid() as p1, gen_random_uuid() as p2;
insert into public.purchases (purchase_id, user_id, package_id, amount_minor, currency, status, stripe_session_id,
                              refunded_minor, disputed_minor, created_at, paid_at) values
  (gen_random_uuid(), gen_random_uuid(), (select p1 from k), 10000, 'USD', 'paid', 'cs_' || gen_random_uuid(), 0, 0, '2031-02-01 08:00Z', '2031-02-01 08:01Z'),
  (gen_random_uuid(), gen_random_uuid(), (select p1 from k), 10000, 'USD', 'partially_refunded', 'cs_' || gen_random_uuid(), 2500, 0, '2031-02-01 09:00Z', '2031-02-01 23:59Z'),
  (gen_random_uuid(), gen_random_uuid(), (select p2 from k), 30000, 'USD', 'disputed', 'cs_' || gen_random_uuid(), 0, 30000, '2031-02-01 10:00Z', '2031-02-01 10:01Z'),
  (gen_random_uuid(), gen_random_uuid(), (select p1 from k), 10000, 'USD', 'refunded', 'cs_' || gen_random_uuid(), 10000, 0, '2031-02-01 23:00Z', '2031-02-02 00:30Z'),
  (gen_random_uuid(), gen_random_uuid(), (select p1 from k), 10000, 'USD', 'pending', 'cs_' || gen_random_uuid(), 0, 0, '2031-02-01 11:00Z', null);
refresh materialized view analytics.daily_revenue;

-- Package 1 on 02-01: two paid (20000), 2500 refunded of them, net 17500; on 02-02: one paid and fully
-- refunded. Package 2: one paid, disputed in full. The pending checkout counts nowhere.
select results_eq(
  $$select day::text, package_id = (select p1 from k), purchases, revenue_minor, refunded_minor, disputed_minor,
           refunded_purchases, net_minor
    from analytics.daily_revenue where day >= '2031-02-01' and package_id in ((select p1 from k), (select p2 from k))
    order by day, package_id = (select p1 from k) desc$$,
  $$values ('2031-02-01', true, 2::bigint, 20000::bigint, 2500::bigint, 0::bigint, 1::bigint, 17500::bigint),
           ('2031-02-01', false, 1, 30000, 0, 30000, 0, 30000),
           ('2031-02-02', true, 1, 10000, 10000, 0, 1, 0)$$,
  'revenue, refunds and disputes per UTC day of payment and package');
select * from finish();
rollback;
