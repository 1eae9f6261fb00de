-- Money configuration: data a deployment changes with SQL (Studio), never code. Seeded with the defaults
-- of CONTRACT.md. Changes apply to future decisions only: every decision records the figures it used.
create schema if not exists money;
comment on schema money is 'Commands and configuration for purchases, commissions and the ledger.';
revoke all on schema money from public;

create table money.settings (
  singleton boolean primary key default true,
  currency text not null default 'USD',
  commission_hold_days int not null default 14,
  withdrawal_min_minor bigint not null default 1000,
  constraint settings_singleton check (singleton),
  constraint settings_currency_format check (currency ~ '^[A-Z]{3}$'),
  constraint settings_hold_days_range check (commission_hold_days between 0 and 365),
  constraint settings_withdrawal_min_positive check (withdrawal_min_minor > 0)
);
comment on table money.settings is 'One row: the platform currency (every package is priced in it), the commission holding period in days, the minimum withdrawal.';
insert into money.settings default values;

-- Amounts in events and projections are in the platform currency, and projections read it: changing
-- it would make a rebuild differ from the live state. It is chosen once, before the first user.
create function money.keep_currency() returns trigger
language plpgsql as $$
begin
  if new.currency is distinct from old.currency then
    raise exception 'the platform currency is fixed once chosen' using errcode = 'MO409';
  end if;
  return new;
end;
$$;
create trigger settings_keep_currency before update on money.settings
  for each row execute function money.keep_currency();

create table money.commission_rates (
  level smallint not null,
  vip_level smallint not null,
  rate_bps int not null,
  constraint commission_rates_pkey primary key (level, vip_level),
  constraint commission_rates_level_range check (level between 1 and 10),
  constraint commission_rates_vip_range check (vip_level between 1 and 10),
  -- VIP level n earns on levels 1..n only.
  constraint commission_rates_vip_covers_level check (vip_level >= level),
  constraint commission_rates_rate_range check (rate_bps between 0 and 10000)
);
comment on table money.commission_rates is 'Commission in basis points of the purchase price, per (level above the buyer, VIP level of the upline). No row: that VIP level does not earn on that level; the share goes to the platform.';

-- Default plan: 21% of every purchase over ten levels, the same rate for every VIP level that may earn it.
insert into money.commission_rates (level, vip_level, rate_bps)
select l.level, v.vip_level, l.rate_bps
from (values (1, 800), (2, 400), (3, 300), (4, 200), (5, 100), (6, 100), (7, 50), (8, 50), (9, 50), (10, 50))
       as l(level, rate_bps)
cross join generate_series(1, 10) as v(vip_level)
where v.vip_level >= l.level;

create table money.vip_levels (
  vip_level smallint primary key,
  personal_volume_minor_min bigint not null,
  team_volume_minor_min bigint not null,
  direct_referrals_min int not null,
  constraint vip_levels_range check (vip_level between 1 and 10),
  constraint vip_levels_thresholds_nonnegative check (
    personal_volume_minor_min >= 0 and team_volume_minor_min >= 0 and direct_referrals_min >= 0)
);
comment on table money.vip_levels is 'A user holds the highest VIP level whose three thresholds they all meet (0 when none). Volumes in the platform currency''s minor units; team volume is the purchases of levels 1-10 below.';
insert into money.vip_levels values
  (1, 1, 0, 0),
  (2, 1, 100000, 2),
  (3, 1, 500000, 3),
  (4, 1, 1000000, 4),
  (5, 1, 2500000, 5),
  (6, 1, 5000000, 6),
  (7, 1, 10000000, 7),
  (8, 1, 25000000, 8),
  (9, 1, 50000000, 9),
  (10, 1, 100000000, 10);

create function money.settings() returns money.settings
language sql stable as $$ select * from money.settings $$;
