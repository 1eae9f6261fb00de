-- Withdrawals requested per UTC day (whatever became of them) and paid per UTC day of payment.
create materialized view analytics.daily_withdrawals as
  with requested as (
    select (requested_at at time zone 'UTC')::date as day, currency, count(*) as requested,
           sum(amount_minor)::bigint as requested_minor
    from public.withdrawals group by 1, 2
  ), paid as (
    select (decided_at at time zone 'UTC')::date as day, currency, count(*) as paid, sum(amount_minor)::bigint as paid_minor
    from public.withdrawals where status = 'paid' group by 1, 2
  )
  select day, currency, coalesce(r.requested, 0)::bigint as requested,
         coalesce(r.requested_minor, 0)::bigint as requested_minor,
         coalesce(p.paid, 0)::bigint as paid, coalesce(p.paid_minor, 0)::bigint as paid_minor
  from requested r full join paid p using (day, currency);
create unique index daily_withdrawals_day_currency_key on analytics.daily_withdrawals (day, currency);
comment on materialized view analytics.daily_withdrawals is
  'Per UTC day: withdrawals requested (count, amount) and withdrawals paid out (by the day marked paid). Refreshed every 10 minutes (concurrently).';
grant select on analytics.daily_withdrawals to analyst;
