-- Analysts read the analytics schema through a read-only role: projections without personal data
-- (ids and amounts only, never an email, a name or a document), and hourly-refreshed aggregates.
create schema if not exists analytics;
comment on schema analytics is 'Read-only views for analysts: no personal data. Role: analyst.';

do $$
begin
  if not exists (select from pg_roles where rolname = 'analyst') then
    create role analyst nologin;
  end if;
end $$;
comment on role analyst is 'Read-only access to the analytics schema. Grant it to a login role: grant analyst to <login>;';

create view analytics.purchases as
  select purchase_id, user_id, package_id, amount_minor, currency, status, refunded_minor, created_at, paid_at
  from public.purchases;
comment on view analytics.purchases is 'Every checkout and its outcome (pending, failed, paid, partially_refunded, refunded, disputed).';

create view analytics.commissions as
  select commission_id, purchase_id, beneficiary_id, level, vip_level, rate_bps, amount_minor, reversed_minor, currency,
         reason, status, accrued_at, releases_at
  from public.commissions;
comment on view analytics.commissions is 'One row per purchase and level 1-10; beneficiary_id null when the share went to the platform (reason).';

create view analytics.contracts as
  select contract_id, user_id, purchase_id, package_id, principal_minor, currency, daily_rate_bps, duration_days,
         total_yield_minor, starts_at, ends_at, status, stopped_at,
         money.accrued_after_periods(total_yield_minor,
           money.contract_periods_accrued(starts_at, ends_at, stopped_after_periods), duration_days) as accrued_minor
  from public.contracts;
comment on view analytics.contracts is 'Contracts with their accrued earnings so far (derived from the accrued periods).';

create view analytics.ledger_entries as
  select event_position, line, account, user_id, amount_minor, balance_before_minor, balance_after_minor, currency,
         event_type, reference_id, recorded_at
  from public.ledger_entries;
comment on view analytics.ledger_entries is 'Every ledger line; per event the lines sum to zero.';

create view analytics.account_balances as
  select account, currency, sum(amount_minor) as balance_minor, count(*) as entries
  from public.ledger_entries group by account, currency;
comment on view analytics.account_balances is 'Balance of every account kind (platform accounts and the sum over users), from the entries.';

create view analytics.users as
  select user_id, referrer_id, vip_level, kyc_status, registered_at from public.users;
comment on view analytics.users is 'Users without personal data: id, referrer, VIP level, KYC status, registration time.';

create view analytics.earnings_periods as
  select period_starts_at, period_ends_at, contracts, users, total_minor from public.earnings_periods;
comment on view analytics.earnings_periods is 'One row per accrued hour period.';

create materialized view analytics.daily_sales as
  select date_trunc('day', paid_at) as day, currency, count(*) as purchases, sum(amount_minor) as volume_minor,
         sum(refunded_minor) as refunded_minor
  from public.purchases where paid_at is not null
  group by 1, 2;
create unique index daily_sales_day_currency_key on analytics.daily_sales (day, currency);
comment on materialized view analytics.daily_sales is 'Paid purchases per UTC day; refreshed hourly (concurrently).';

select private.schedule_job('refresh-analytics', '41 * * * *',
  'refresh materialized view concurrently analytics.daily_sales');

revoke all on schema analytics from public;
grant usage on schema analytics to analyst;
grant select on all tables in schema analytics to analyst;
-- The views run as their owner; the analyst needs nothing in public, money or private.
