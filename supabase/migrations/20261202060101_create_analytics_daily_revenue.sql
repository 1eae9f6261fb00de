-- Revenue and refunds per UTC day of payment and package. The purchases projection keeps the cumulative
-- refunded and disputed amounts, not when they happened, so they count on the purchase's payment day
-- (a cohort view: "of what was sold that day, how much came back"); refunds by the day they happened are
-- in analytics.ledger_entries.
create materialized view analytics.daily_revenue as
  select (paid_at at time zone 'UTC')::date as day, package_id, currency,
         count(*) as purchases, sum(amount_minor)::bigint as revenue_minor,
         sum(refunded_minor)::bigint as refunded_minor, sum(disputed_minor)::bigint as disputed_minor,
         count(*) filter (where refunded_minor > 0) as refunded_purchases,
         sum(amount_minor - refunded_minor)::bigint as net_minor
  from public.purchases
  where paid_at is not null
  group by 1, 2, 3;
create unique index daily_revenue_day_package_key on analytics.daily_revenue (day, package_id, currency);
comment on materialized view analytics.daily_revenue is
  'Paid purchases per UTC day of payment and package: revenue, and what was refunded or disputed of them since (counted on the payment day). Refreshed every 10 minutes (concurrently).';
grant select on analytics.daily_revenue to analyst;
