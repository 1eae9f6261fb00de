-- Earnings accrued per UTC day (the sum of that day's hour periods, by the period's start).
create materialized view analytics.daily_earnings as
  select (period_starts_at at time zone 'UTC')::date as day, count(*) as periods,
         sum(total_minor)::bigint as accrued_minor, max(contracts) as contracts_max
  from public.earnings_periods
  group by 1;
create unique index daily_earnings_day_key on analytics.daily_earnings (day);
comment on materialized view analytics.daily_earnings is
  'Earnings accrued per UTC day: hour periods run, their total, and the most contracts one period paid. Refreshed every 10 minutes (concurrently).';
grant select on analytics.daily_earnings to analyst;
