-- Cohort retention of buyers. A buyer's cohort is the UTC month of their first paid purchase; for that
-- month (offset 0) and every later month up to the latest month with any paid purchase, how many of the
-- cohort made at least one paid purchase in that month. A purchase counts by the month it was paid, even
-- if refunded later (as activations in daily_signups do). Refreshed by private.refresh_analytics()
-- (20261202060200).
create materialized view analytics.buyer_retention as
  with buys as (
    select distinct user_id, date_trunc('month', paid_at at time zone 'UTC')::date as month
    from public.purchases where paid_at is not null
  ), cohorts as (
    select user_id, min(month) as cohort_month from buys group by user_id
  ), sizes as (
    select cohort_month, count(*) as cohort_buyers from cohorts group by cohort_month
  ), months as (
    select s.cohort_month, s.cohort_buyers, m.month::date as month
    from sizes s
    cross join lateral generate_series(s.cohort_month, (select max(month) from buys), interval '1 month') as m(month)
  )
  select m.cohort_month,
         ((extract(year from m.month) - extract(year from m.cohort_month)) * 12
           + extract(month from m.month) - extract(month from m.cohort_month))::int as month_offset,
         m.month,
         m.cohort_buyers::bigint as cohort_buyers,
         count(b.user_id)::bigint as active_buyers,
         (count(b.user_id) * 10000 / m.cohort_buyers)::int as retention_bps
  from months m
  left join cohorts c on c.cohort_month = m.cohort_month
  left join buys b on b.user_id = c.user_id and b.month = m.month
  group by m.cohort_month, m.month, m.cohort_buyers;
create unique index buyer_retention_cohort_month_key on analytics.buyer_retention (cohort_month, month_offset);
comment on materialized view analytics.buyer_retention is
  'Cohort retention of buyers. cohort_month = UTC month of a buyer''s first paid purchase; for month_offset 0 (that month, 100% by definition) and every later month up to the latest month with any paid purchase: cohort_buyers = buyers in the cohort, active_buyers = those with at least one paid purchase in that month (counted by payment month, even if refunded later), retention_bps = floor(active_buyers x 10000 / cohort_buyers). Refreshed every 10 minutes (concurrently).';
grant select on analytics.buyer_retention to analyst;
