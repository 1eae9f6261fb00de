-- Daily signups and activations (a user's first paid purchase), per UTC day. Refreshed by
-- private.refresh_analytics() (20261202060200).
create materialized view analytics.daily_signups as
  with signups as (
    select (registered_at at time zone 'UTC')::date as day, count(*) as signups
    from public.users group by 1
  ), activations as (
    select (first_paid_at at time zone 'UTC')::date as day, count(*) as activations
    from (select min(paid_at) as first_paid_at from public.purchases where paid_at is not null group by user_id) f
    group by 1
  )
  select day, coalesce(s.signups, 0)::bigint as signups, coalesce(a.activations, 0)::bigint as activations
  from signups s full join activations a using (day);
create unique index daily_signups_day_key on analytics.daily_signups (day);
comment on materialized view analytics.daily_signups is
  'Per UTC day: users registered, and users activated (their first paid purchase, even if refunded later). Refreshed every 10 minutes (concurrently).';
grant select on analytics.daily_signups to analyst;
