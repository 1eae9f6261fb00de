-- Commissions per UTC day of accrual, level and outcome: earned (a referrer's share, pending or released),
-- platform (no eligible referrer; the reason is in analytics.commissions), reversed (taken back in full by
-- a refund or dispute). A partial reversal stays earned, with its part in reversed_minor.
create materialized view analytics.daily_commissions as
  select (accrued_at at time zone 'UTC')::date as day, level,
         case when status = 'platform' then 'platform' when status = 'reversed' then 'reversed' else 'earned' end
           as outcome,
         currency, count(*) as commissions, sum(amount_minor)::bigint as amount_minor,
         sum(reversed_minor)::bigint as reversed_minor
  from public.commissions
  group by 1, 2, 3, 4;
create unique index daily_commissions_key on analytics.daily_commissions (day, level, outcome, currency);
comment on materialized view analytics.daily_commissions is
  'Commissions per UTC day of accrual, level (1-10) and outcome (earned, platform, reversed), with the amounts reversed. Refreshed every 10 minutes (concurrently).';
grant select on analytics.daily_commissions to analyst;
