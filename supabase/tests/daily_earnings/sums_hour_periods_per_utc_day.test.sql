begin;
select plan(1);
-- Hand-made periods far in the future (2031), so the days checked hold nothing but them; rolled back.
insert into public.earnings_periods (period_starts_at, period_ends_at, event_position, contracts, users, total_minor)
select at, at + interval '1 hour', 900000000 + n, contracts, 1, total
from (values (1, '2031-04-01 00:00Z'::timestamptz, 3, 100), (2, '2031-04-01 23:00Z', 5, 250),
             (3, '2031-04-02 00:00Z', 4, 7)) as v(n, at, contracts, total);
refresh materialized view analytics.daily_earnings;

select results_eq(
  $$select day::text, periods, accrued_minor, contracts_max from analytics.daily_earnings where day >= '2031-04-01' order by day$$,
  $$values ('2031-04-01', 2::bigint, 350::bigint, 5), ('2031-04-02', 1, 7, 4)$$,
  'periods, their total and the most contracts per UTC day of the period start');
select * from finish();
rollback;
