-- Collecting what users owe (issue "Close the leaks", item 2). A clawback records what available could
-- not cover as owed (negative); from here on every credit to a user's available balance pays that
-- debt down first, and the ledger shows it: the source line, then user:owed (+paydown), then
-- user:available (the rest). The split is computed from the projection at apply time, which is the
-- same state live and in a rebuild (commands lock the user before appending).

-- A projection rule that changes what events mean for balances applies from the event after the
-- migration that introduced it: a rebuild then replays history exactly as it was applied live.
create table projections.rule_changes (
  rule text primary key,
  from_position bigint not null
);
comment on table projections.rule_changes is 'Projection rules introduced after events existed: they apply to events with position > from_position (rebuilds replay older events under the old rule).';
-- No append may commit between reading the last position and this migration's commit.
lock table event_store.events in exclusive mode;
insert into projections.rule_changes (rule, from_position)
values ('debt_collection', (select coalesce(max(position), 0) from event_store.events));

create function projections.rule_applies(p_rule text, p_position bigint) returns boolean
language sql stable as $$
  select p_position > coalesce((select from_position from projections.rule_changes where rule = p_rule), 0)
$$;

-- Few accounts ever owe: the earnings pass looks them up through this index, not by scanning.
create index user_accounts_owing_idx on public.user_accounts (user_id) where owed_minor < 0;

-- Move p_amount_minor from account p_from_kind (of p_from_user_id, or the platform when null) to
-- p_user_id's available balance, paying down owed first.
create function projections.post_credit(
  e event_store.events, p_reference_id uuid, p_user_id uuid, p_amount_minor bigint, p_from_kind text,
  p_from_user_id uuid
) returns void
language plpgsql as $$
declare
  v_paydown bigint := 0;
begin
  if projections.rule_applies('debt_collection', e.position) then
    v_paydown := least(p_amount_minor, -(select owed_minor from public.user_accounts where user_id = p_user_id));
  end if;
  perform projections.post_entries(e, p_reference_id,
      array[p_from_kind, 'owed', 'available'],
      array[-p_amount_minor, v_paydown, p_amount_minor - v_paydown]::bigint[],
      array[p_from_user_id, p_user_id, p_user_id]::uuid[]);
end;
$$;

-- A withdrawal rejected: the amount comes back from in transit, paying down any debt first.
create or replace function projections.project_withdrawal(e event_store.events) returns void
language plpgsql as $$
declare
  d jsonb := e.data;
  w public.withdrawals;
begin
  if e.type = 'WithdrawalRequested' then
    insert into public.withdrawals (withdrawal_id, user_id, amount_minor, currency, status, requested_at)
    values ((d ->> 'withdrawalId')::uuid, (d ->> 'userId')::uuid, (d ->> 'amountMinor')::bigint, d ->> 'currency',
            'pending', e.recorded_at)
    returning * into w;
    perform projections.post_entries(e, w.withdrawal_id,
        array['available', 'in_transit'],
        array[-w.amount_minor, w.amount_minor]::bigint[],
        array[w.user_id, w.user_id]::uuid[]);
    return;
  end if;
  update public.withdrawals
  set status = case e.type when 'WithdrawalApproved' then 'approved' when 'WithdrawalRejected' then 'rejected' else 'paid' end,
      decided_at = e.recorded_at, decided_by = (d ->> 'adminId')::uuid, reference = coalesce(d ->> 'reference', reference)
  where withdrawal_id = (d ->> 'withdrawalId')::uuid
  returning * into w;
  if e.type = 'WithdrawalRejected' then
    perform projections.post_credit(e, w.withdrawal_id, w.user_id, w.amount_minor, 'in_transit', w.user_id);
  elsif e.type = 'WithdrawalPaid' then
    update public.user_accounts set withdrawn_minor = withdrawn_minor + w.amount_minor where user_id = w.user_id;
    perform projections.post_entries(e, w.withdrawal_id,
        array['in_transit', 'payouts'],
        array[-w.amount_minor, w.amount_minor]::bigint[],
        array[w.user_id, null]::uuid[]);
  end if;
end;
$$;

-- One period's accrual (as before), now paying each owing user's debt down first: the ledger takes
-- the platform's expense line, then per user an owed line when they owe and an available line for the rest.
create or replace function projections.project_earnings_period(e event_store.events) returns void
language plpgsql as $$
declare
  v_starts_at timestamptz := (e.data ->> 'periodStartsAt')::timestamptz;
  v_ends_at timestamptz := (e.data ->> 'periodEndsAt')::timestamptz;
  v_currency text := (money.settings()).currency;
  v_contracts int;
  v_users int;
  v_total bigint;
begin
  if to_regclass('pg_temp.period_credits_v2') is null then
    create temporary table period_credits_v2 (
      user_id uuid primary key, contracts int, amount_minor bigint, paydown_minor bigint not null default 0
    ) on commit drop;
  else
    truncate pg_temp.period_credits_v2;
  end if;
  insert into pg_temp.period_credits_v2 (user_id, contracts, amount_minor)
  select c.user_id, count(*),
         sum(money.accrued_after_periods(c.total_yield_minor, c.k, c.duration_days)
             - money.accrued_after_periods(c.total_yield_minor, c.k - 1, c.duration_days))
  from (
    select user_id, total_yield_minor, duration_days,
           (extract(epoch from (v_ends_at - starts_at)) / 3600)::int as k
    from public.contracts
    where status = 'active' and starts_at <= v_starts_at and ends_at >= v_ends_at
  ) c
  group by c.user_id;

  update pg_temp.period_credits_v2 p set paydown_minor = least(p.amount_minor, -a.owed_minor)
  from public.user_accounts a
  where a.owed_minor < 0 and a.user_id = p.user_id and p.amount_minor > 0
    and projections.rule_applies('debt_collection', e.position);

  select coalesce(sum(contracts), 0), count(*) filter (where amount_minor > 0), coalesce(sum(amount_minor), 0)
  into v_contracts, v_users, v_total
  from pg_temp.period_credits_v2;

  with credited as (
    update public.user_accounts a
    set available_minor = a.available_minor + p.amount_minor - p.paydown_minor,
        owed_minor = a.owed_minor + p.paydown_minor,
        earned_minor = a.earned_minor + p.amount_minor
    from pg_temp.period_credits_v2 p
    where a.user_id = p.user_id and p.amount_minor > 0
    returning a.user_id, a.available_minor, a.owed_minor, p.amount_minor, p.paydown_minor
  ), lines as (
    select user_id, 'user:owed' as account, paydown_minor as amount_minor, owed_minor as after_minor, 1 as kind_order
    from credited where paydown_minor > 0
    union all
    select user_id, 'user:available', amount_minor - paydown_minor, available_minor, 2
    from credited where amount_minor > paydown_minor
  )
  insert into public.ledger_entries (event_position, line, account, user_id, amount_minor, balance_before_minor,
    balance_after_minor, currency, event_type, reference_id, recorded_at)
  select e.position, 1 + row_number() over (order by user_id, kind_order), account, user_id, amount_minor,
         after_minor - amount_minor, after_minor, v_currency, e.type, null, e.recorded_at
  from lines;

  if v_total > 0 then
    insert into public.ledger_entries (event_position, line, account, user_id, amount_minor, balance_before_minor,
      balance_after_minor, currency, event_type, reference_id, recorded_at)
    values (e.position, 1, 'platform:earnings_expense', null, -v_total, null, null, v_currency, e.type, null, e.recorded_at);
  end if;

  insert into public.earnings_periods (period_starts_at, period_ends_at, event_position, contracts, users, total_minor)
  values (v_starts_at, v_ends_at, e.position, v_contracts, v_users, v_total);
end;
$$;
