begin;
select plan(2);
-- Hand-made purchases far in the future (2031: the latest months with payments), rolled back.
set local timezone = 'Pacific/Kiritimati'; -- UTC+14: months are UTC whatever the session's zone

create temp table u as select gen_random_uuid() as a, gen_random_uuid() as b, gen_random_uuid() as c,
  gen_random_uuid() as d, gen_random_uuid() as f;
insert into public.users (user_id, referral_code, registered_at)
select id, test_support.referral_code(), '2031-01-01Z' from u, lateral unnest(array[a, b, c, d, f]) as id;
insert into public.purchases (purchase_id, user_id, package_id, amount_minor, currency, status, stripe_session_id,
                              created_at, paid_at)
select gen_random_uuid(), id, gen_random_uuid(), 1000, 'USD', status, 'cs_' || gen_random_uuid(), coalesce(paid, '2031-01-01Z'), paid
from u, lateral (values
  (a, 'paid', '2031-01-05Z'::timestamptz), (a, 'paid', '2031-01-20Z'), (a, 'paid', '2031-03-01Z'),
  (b, 'paid', '2031-01-31 23:30Z'), (b, 'paid', '2031-02-01 00:10Z'),
  (f, 'paid', '2031-01-10Z'),
  (c, 'refunded', '2031-02-10Z'), (c, 'paid', '2031-04-02Z'),
  (d, 'pending', null), (d, 'failed', null)) as v(id, status, paid);
refresh materialized view analytics.buyer_retention;

-- January cohort: a, b, f (b's 23:30 UTC payment is January's even at UTC+14). February: b (1 of 3 =
-- 3,333 bps); March: a (3,333); April: nobody. February cohort: c (refunded since, still a buyer); March:
-- nobody; April: c again. d never paid: no cohort. April is the latest month with a payment.
select results_eq(
  $$select cohort_month::text, month_offset, month::text, cohort_buyers, active_buyers, retention_bps
    from analytics.buyer_retention where cohort_month >= '2031-01-01' order by cohort_month, month_offset$$,
  $$values ('2031-01-01', 0, '2031-01-01', 3::bigint, 3::bigint, 10000), ('2031-01-01', 1, '2031-02-01', 3, 1, 3333),
           ('2031-01-01', 2, '2031-03-01', 3, 1, 3333), ('2031-01-01', 3, '2031-04-01', 3, 0, 0),
           ('2031-02-01', 0, '2031-02-01', 1, 1, 10000), ('2031-02-01', 1, '2031-03-01', 1, 0, 0),
           ('2031-02-01', 2, '2031-04-01', 1, 1, 10000)$$,
  'per cohort (UTC month of the first paid purchase) and later month: buyers who paid again that month');
select lives_ok('refresh materialized view concurrently analytics.buyer_retention', 'it refreshes concurrently');
select * from finish();
rollback;
