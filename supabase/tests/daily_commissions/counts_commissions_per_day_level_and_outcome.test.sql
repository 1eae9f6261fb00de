begin;
select plan(1);
-- Hand-made commissions far in the future (2031), so the days checked hold nothing but them; rolled back.
insert into public.commissions (commission_id, purchase_id, beneficiary_id, level, vip_level, rate_bps, amount_minor,
                                currency, reason, status, releases_at, reversed_minor, accrued_at)
select gen_random_uuid(), gen_random_uuid(), b, level, 1, 800, amount, 'USD', reason, status,
       '2031-03-15Z', reversed, at::timestamptz
from (values
  (gen_random_uuid(), 1, 800, 'earned', 'pending', 0, '2031-03-01 01:00Z'),
  (gen_random_uuid(), 1, 800, 'earned', 'released', 200, '2031-03-01 02:00Z'),
  (gen_random_uuid(), 1, 800, 'earned', 'reversed', 800, '2031-03-01 03:00Z'),
  (null, 2, 300, 'no_upline', 'platform', 0, '2031-03-01 04:00Z'),
  (null, 2, 300, 'vip_ineligible', 'platform', 0, '2031-03-02 04:00Z')
) as v(b, level, amount, reason, status, reversed, at);
refresh materialized view analytics.daily_commissions;

select results_eq(
  $$select day::text, level::int, outcome, commissions, amount_minor, reversed_minor
    from analytics.daily_commissions where day >= '2031-03-01' order by day, level, outcome$$,
  $$values ('2031-03-01', 1, 'earned', 2::bigint, 1600::bigint, 200::bigint),
           ('2031-03-01', 1, 'reversed', 1, 800, 800),
           ('2031-03-01', 2, 'platform', 1, 300, 0),
           ('2031-03-02', 2, 'platform', 1, 300, 0)$$,
  'earned (pending or released, a partial reversal included), reversed in full, and platform shares');
select * from finish();
rollback;
