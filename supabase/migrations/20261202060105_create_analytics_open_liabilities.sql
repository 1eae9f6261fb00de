-- What the platform owes its users right now, per currency: pending (commissions in their holding period),
-- available, in transit (withdrawals not yet paid) and held (credits held while frozen). What users owe
-- back (clawbacks the available balance could not cover) is a receivable, shown apart, not netted.
create materialized view analytics.open_liabilities as
  select currency, count(*) as accounts, sum(pending_minor)::bigint as pending_minor,
         sum(available_minor)::bigint as available_minor, sum(in_transit_minor)::bigint as in_transit_minor,
         sum(held_minor)::bigint as held_minor,
         sum(pending_minor + available_minor + in_transit_minor + held_minor)::bigint as total_minor,
         (-sum(owed_minor))::bigint as owed_to_platform_minor
  from public.user_accounts
  group by currency;
create unique index open_liabilities_currency_key on analytics.open_liabilities (currency);
comment on materialized view analytics.open_liabilities is
  'Balances owed to users per currency (pending + available + in transit + held = total), and what users owe back (owed_to_platform_minor). As of the last refresh, every 10 minutes (concurrently).';
grant select on analytics.open_liabilities to analyst;
