-- Account controls (issue "Admins and analysts"): an admin freezes or unfreezes an account, with a reason
-- code (AccountFrozen / AccountUnfrozen; any free text stays in private.account_control_notes), and changes
-- a user's role (RoleChanged). A frozen account:
--   - cannot start a purchase or a withdrawal (MO413, 403 account_frozen),
--   - has its pending withdrawals held: approve and mark_paid refused (MO414, 422 invalid_state), reject works,
--   - still accrues commissions and earnings, but nothing reaches its available balance: commissions stay
--     pending (the release job skips it), and every other credit (earnings periods, restorations, a rejected
--     withdrawal coming back) goes, after paying any debt, to a new `held` balance, which AccountUnfrozen
--     moves to available (again paying debt first).
-- Every check runs in the command's transaction, under the user's row lock (money.lock_users), which the
-- freeze takes too: a withdrawal either committed before the freeze or sees it.
--
-- Errors (SQLSTATE): MO413 frozen (purchase, withdrawal), MO414 a frozen account's withdrawal is held,
-- AD403 an admin acting on their own account's freeze, AD404 unknown user, AD409 the last admin,
-- AD422 unknown reason code, KY403 the actor is not an admin (private.assert_admin).

alter table public.user_accounts add column held_minor bigint not null default 0;
alter table public.user_accounts add constraint user_accounts_held_nonnegative check (held_minor >= 0);
comment on column public.user_accounts.held_minor is 'Credits that arrived while the account was frozen (after paying debt); moved to available when it is unfrozen.';

-- Reason codes are data (operators add their own in Studio); the events carry the code only.
create table money.account_control_reasons (
  action text not null,
  reason text not null,
  description text not null,
  constraint account_control_reasons_pkey primary key (action, reason),
  constraint account_control_reasons_action_check check (action in ('freeze', 'unfreeze')),
  constraint account_control_reasons_format check (reason ~ '^[a-z][a-z0-9_]{1,39}$')
);
comment on table money.account_control_reasons is 'Reason codes an admin may give when freezing or unfreezing an account (AccountFrozen / AccountUnfrozen carry the code).';
insert into money.account_control_reasons (action, reason, description) values
  ('freeze', 'fraud_suspected', 'Activity that looks fraudulent is under review'),
  ('freeze', 'chargeback_risk', 'Disputes or refunds suggest the account may owe more'),
  ('freeze', 'identity_mismatch', 'Identity documents do not match the account'),
  ('freeze', 'compliance_review', 'A legal or compliance review of the account'),
  ('freeze', 'user_request', 'The user asked for the account to be frozen'),
  ('freeze', 'other', 'Another reason, explained in the note'),
  ('unfreeze', 'review_cleared', 'The review found nothing wrong'),
  ('unfreeze', 'frozen_in_error', 'The freeze was a mistake'),
  ('unfreeze', 'user_request', 'The user asked for the account to be unfrozen'),
  ('unfreeze', 'other', 'Another reason, explained in the note');

-- The frozen accounts (projection of AccountFrozen / AccountUnfrozen): few rows, so every money path can
-- check or join it cheaply. Not readable by clients (register_table closes it to the API roles).
create table money.frozen_accounts (
  user_id uuid primary key,
  reason text not null,
  frozen_by uuid,
  frozen_at timestamptz not null,
  event_position bigint not null
);
comment on table money.frozen_accounts is 'Accounts frozen now: the reason code, the admin and when. Projection of AccountFrozen / AccountUnfrozen.';
select projections.register_table('money.frozen_accounts');

-- What an admin typed: personal data, kept out of the events, erasable, keyed by the event it explains.
create table private.account_control_notes (
  event_position bigint primary key,
  user_id uuid not null,
  note text not null,
  created_at timestamptz not null default now(),
  constraint account_control_notes_length check (length(note) between 1 and 2000)
);
comment on table private.account_control_notes is 'Free-text notes admins gave with a freeze, an unfreeze or a role change, by event position (erasable).';
create index account_control_notes_user_idx on private.account_control_notes (user_id, event_position desc);

create function money.is_frozen(p_user_id uuid) returns boolean
language sql stable as $$ select exists (select from money.frozen_accounts where user_id = p_user_id) $$;

-- post_entries as before, plus the user kind `held`.
create or replace function projections.post_entries(
  e event_store.events, p_reference_id uuid, p_kinds text[], p_amounts bigint[], p_user_ids uuid[]
) returns void
language plpgsql as $$
declare
  v_line int := 0;
  v_sum bigint := 0;
  v_after bigint;
  v_kind text;
  v_amount bigint;
  v_user_id uuid;
  v_currency text := coalesce(e.data ->> 'currency', (money.settings()).currency);
begin
  for i in 1 .. cardinality(p_kinds) loop
    v_kind := p_kinds[i];
    v_amount := p_amounts[i];
    v_user_id := p_user_ids[i];
    continue when v_amount = 0;
    v_line := v_line + 1;
    v_sum := v_sum + v_amount;
    v_after := null;
    if v_user_id is not null then
      update public.user_accounts set
        available_minor = available_minor + case when v_kind = 'available' then v_amount else 0 end,
        pending_minor = pending_minor + case when v_kind = 'pending' then v_amount else 0 end,
        in_transit_minor = in_transit_minor + case when v_kind = 'in_transit' then v_amount else 0 end,
        owed_minor = owed_minor + case when v_kind = 'owed' then v_amount else 0 end,
        held_minor = held_minor + case when v_kind = 'held' then v_amount else 0 end
      where user_id = v_user_id
      returning case v_kind when 'available' then available_minor when 'pending' then pending_minor
                            when 'in_transit' then in_transit_minor when 'owed' then owed_minor
                            when 'held' then held_minor end
      into v_after;
      if v_after is null then
        raise exception 'no % account for user %', v_kind, v_user_id using errcode = 'MO500';
      end if;
    end if;
    insert into public.ledger_entries (event_position, line, account, user_id, amount_minor, balance_before_minor,
      balance_after_minor, currency, event_type, reference_id, recorded_at)
    values (e.position, v_line, case when v_user_id is null then 'platform:' else 'user:' end || v_kind, v_user_id,
      v_amount, v_after - v_amount, v_after, v_currency, e.type, p_reference_id, e.recorded_at);
  end loop;
  if v_sum <> 0 then
    raise exception 'ledger entries of event % sum to %, not zero', e.position, v_sum using errcode = 'MO500';
  end if;
end;
$$;

-- A credit to a user (as before: debt first), the rest to available, or to held while the account is
-- frozen. No account was frozen before this migration, so older events replay exactly as they applied.
create or replace function projections.post_credit(
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
      array[p_from_kind, 'owed', case when money.is_frozen(p_user_id) then 'held' else 'available' end],
      array[-p_amount_minor, v_paydown, p_amount_minor - v_paydown]::bigint[],
      array[p_from_user_id, p_user_id, p_user_id]::uuid[]);
end;
$$;

-- AccountFrozen / AccountUnfrozen. Unfreezing moves the held balance (the amount the command read under
-- the user's lock, so live and rebuilt states agree) to available, paying debt first.
create function projections.project_account_control(e event_store.events) returns void
language plpgsql as $$
declare
  v_user_id uuid := (e.data ->> 'userId')::uuid;
begin
  if e.type = 'AccountFrozen' then
    insert into money.frozen_accounts (user_id, reason, frozen_by, frozen_at, event_position)
    values (v_user_id, e.data ->> 'reason', (e.data ->> 'adminId')::uuid, e.recorded_at, e.position);
  else -- AccountUnfrozen
    delete from money.frozen_accounts where user_id = v_user_id;
    if (e.data ->> 'releasedMinor')::bigint > 0 then
      perform projections.post_credit(e, null, v_user_id, (e.data ->> 'releasedMinor')::bigint, 'held', v_user_id);
    end if;
  end if;
end;
$$;
insert into projections.handlers (event_type, handler, priority) values
  ('AccountFrozen', 'projections.project_account_control(event_store.events)'::regprocedure, 10),
  ('AccountUnfrozen', 'projections.project_account_control(event_store.events)'::regprocedure, 10);

-- One period's accrual (as in 20261202010000_create_debt_collection.sql), now holding what frozen accounts
-- earn: after the debt paydown, their credit goes to held instead of available. Still set-based: the
-- frozen set is small and marks its users in the period's temporary table with one join.
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
  if to_regclass('pg_temp.period_credits_v3') is null then
    create temporary table period_credits_v3 (
      user_id uuid primary key, contracts int, amount_minor bigint, paydown_minor bigint not null default 0,
      held boolean not null default false
    ) on commit drop;
  else
    truncate pg_temp.period_credits_v3;
  end if;
  insert into pg_temp.period_credits_v3 (user_id, contracts, amount_minor)
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

  update pg_temp.period_credits_v3 p set paydown_minor = least(p.amount_minor, -a.owed_minor)
  from public.user_accounts a
  where a.owed_minor < 0 and a.user_id = p.user_id and p.amount_minor > 0
    and projections.rule_applies('debt_collection', e.position);

  if exists (select from money.frozen_accounts) then
    update pg_temp.period_credits_v3 p set held = true from money.frozen_accounts f where f.user_id = p.user_id;
  end if;

  select coalesce(sum(contracts), 0), count(*) filter (where amount_minor > 0), coalesce(sum(amount_minor), 0)
  into v_contracts, v_users, v_total
  from pg_temp.period_credits_v3;

  with credited as (
    update public.user_accounts a
    set available_minor = a.available_minor + case when p.held then 0 else p.amount_minor - p.paydown_minor end,
        held_minor = a.held_minor + case when p.held then p.amount_minor - p.paydown_minor else 0 end,
        owed_minor = a.owed_minor + p.paydown_minor,
        earned_minor = a.earned_minor + p.amount_minor
    from pg_temp.period_credits_v3 p
    where a.user_id = p.user_id and p.amount_minor > 0
    returning a.user_id, a.available_minor, a.held_minor, a.owed_minor, p.amount_minor, p.paydown_minor, p.held
  ), lines as (
    select user_id, 'user:owed' as account, paydown_minor as amount_minor, owed_minor as after_minor, 1 as kind_order
    from credited where paydown_minor > 0
    union all
    select user_id, case when held then 'user:held' else 'user:available' end, amount_minor - paydown_minor,
           case when held then held_minor else available_minor end, 2
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

-- The holding period (as in 20261122060008_create_release_commissions.sql), skipping frozen
-- beneficiaries: their commissions stay pending and are released by the first run after the unfreeze.
-- The frozen check is made when choosing (so frozen commissions never fill the batch) and again under
-- the users' locks (a freeze that committed in between wins).
create or replace function money.release_due_commissions(p_now timestamptz default now(), p_limit int default 5000)
returns int
language plpgsql as $$
declare
  v_ids uuid[];
  c record;
  n int := 0;
begin
  select array_agg(commission_id) into v_ids from (
    select m.commission_id from public.commissions m
    where m.status = 'pending' and m.releases_at <= p_now
      and not exists (select from money.frozen_accounts f where f.user_id = m.beneficiary_id)
    order by m.releases_at, m.commission_id
    limit least(greatest(p_limit, 1), 50000)
  ) due;
  if v_ids is null then return 0; end if;
  perform money.lock_users(array(select distinct beneficiary_id from public.commissions where commission_id = any(v_ids)));
  for c in
    select m.* from public.commissions m
    where m.commission_id = any(v_ids) and m.status = 'pending'
      and not exists (select from money.frozen_accounts f where f.user_id = m.beneficiary_id)
    order by m.commission_id
  loop
    perform event_store.append_events('purchase-' || c.purchase_id, 'stream_exists', jsonb_build_array(jsonb_build_object(
      'type', 'CommissionReleased',
      'data', jsonb_build_object('commissionId', c.commission_id, 'amountMinor', c.amount_minor - c.reversed_minor,
        'currency', c.currency))), jsonb_build_object('actorId', null, 'job', 'release_commissions'));
    n := n + 1;
  end loop;
  return n;
end;
$$;
comment on function money.release_due_commissions(timestamptz, int) is 'Release commissions past their holding period (pg_cron, every minute), except to frozen accounts. Safe to run concurrently and repeatedly.';

-- Starting a checkout (as in 20261122060006_create_purchase_commands.sql), refused to a frozen account.
-- The buyer's row is read FOR SHARE: a freeze (FOR UPDATE, money.lock_users) either committed before the
-- check, or waits for this checkout to commit. A checkout started before a freeze can still be paid:
-- Stripe has taken the money by then, and the purchase must stand (or be refunded) like any other.
create or replace function money.start_checkout(
  p_purchase_id uuid, p_user_id uuid, p_package_id uuid, p_stripe_session_id text, p_metadata jsonb default '{}'::jsonb
) returns jsonb
language plpgsql as $$
declare
  v_package public.packages;
begin
  perform from public.users where user_id = p_user_id for share;
  if money.is_frozen(p_user_id) then
    raise exception 'the account is frozen' using errcode = 'MO413';
  end if;
  select * into v_package from public.packages where package_id = p_package_id and status = 'active';
  if not found then raise exception 'unknown or retired package' using errcode = 'MO404'; end if;
  perform event_store.append_events('purchase-' || p_purchase_id, 'no_stream', jsonb_build_array(jsonb_build_object(
    'type', 'CheckoutStarted',
    'data', jsonb_build_object('purchaseId', p_purchase_id, 'userId', p_user_id, 'packageId', p_package_id,
      'amountMinor', v_package.price_minor, 'currency', v_package.currency, 'stripeSessionId', p_stripe_session_id))),
    p_metadata);
  return money.purchase_json(p_purchase_id);
end;
$$;

-- Withdrawals (as in 20261202010300_hold_withdrawals_of_debtors.sql), plus the freeze: a frozen account's
-- new request is refused (MO413) right after the retry check, before KYC, debt and balance.
create or replace function money.request_withdrawal(
  p_withdrawal_id uuid, p_user_id uuid, p_amount_minor bigint, p_currency text, p_destination text,
  p_metadata jsonb default '{}'::jsonb
) returns jsonb
language plpgsql as $$
declare
  v_settings money.settings := money.settings();
  v_account public.user_accounts;
begin
  if upper(p_currency) <> v_settings.currency then
    raise exception 'withdrawals are in %', v_settings.currency using errcode = 'MO422';
  end if;
  if p_amount_minor < v_settings.withdrawal_min_minor then
    raise exception 'the minimum withdrawal is % minor units', v_settings.withdrawal_min_minor using errcode = 'MO422';
  end if;
  perform money.lock_users(array[p_user_id]);
  -- The same id again (an Idempotency-Key retry whose first attempt committed): its result, once.
  if exists (select from public.withdrawals where withdrawal_id = p_withdrawal_id and user_id = p_user_id) then
    return money.withdrawal_json(p_withdrawal_id);
  end if;
  if money.is_frozen(p_user_id) then
    raise exception 'the account is frozen' using errcode = 'MO413';
  end if;
  if not kyc.is_approved(p_user_id) then
    raise exception 'an approved KYC case is required' using errcode = 'MO403';
  end if;
  select * into v_account from public.user_accounts where user_id = p_user_id;
  if coalesce(v_account.owed_minor, 0) < 0 then
    raise exception 'the account owes %', -v_account.owed_minor using errcode = 'MO423';
  end if;
  if coalesce(v_account.available_minor, 0) < p_amount_minor then
    raise exception 'available % is less than %', coalesce(v_account.available_minor, 0), p_amount_minor using errcode = 'MO402';
  end if;
  insert into private.withdrawal_destinations (withdrawal_id, destination) values (p_withdrawal_id, p_destination);
  perform event_store.append_events('withdrawal-' || p_withdrawal_id, 'no_stream', jsonb_build_array(jsonb_build_object(
    'type', 'WithdrawalRequested',
    'data', jsonb_build_object('withdrawalId', p_withdrawal_id, 'userId', p_user_id, 'amountMinor', p_amount_minor,
      'currency', v_settings.currency))), coalesce(p_metadata, '{}'::jsonb) || jsonb_build_object('actorId', p_user_id));
  return money.withdrawal_json(p_withdrawal_id);
end;
$$;

-- Decisions (as in 20261202010300_hold_withdrawals_of_debtors.sql), plus: approving or paying a frozen
-- account's withdrawal is held (MO414) until it is unfrozen; rejecting it works.
create or replace function money.decide_withdrawal(
  p_withdrawal_id uuid, p_admin_id uuid, p_decision text, p_reference text default null, p_reason text default null,
  p_metadata jsonb default '{}'::jsonb
) returns jsonb
language plpgsql as $$
declare
  w public.withdrawals;
  v_event text;
begin
  perform private.assert_admin(p_admin_id);
  select * into w from public.withdrawals where withdrawal_id = p_withdrawal_id;
  if not found then raise exception 'unknown withdrawal' using errcode = 'MO404'; end if;
  if w.user_id = p_admin_id then raise exception 'nobody decides their own withdrawal' using errcode = 'MO411'; end if;
  perform money.lock_users(array[w.user_id]);
  select * into w from public.withdrawals where withdrawal_id = p_withdrawal_id for update;
  v_event := case
    when p_decision = 'approve' and w.status = 'pending' then 'WithdrawalApproved'
    when p_decision = 'reject' and w.status in ('pending', 'approved') then 'WithdrawalRejected'
    when p_decision = 'mark_paid' and w.status = 'approved' then 'WithdrawalPaid'
  end;
  if v_event is null then
    raise exception 'cannot % a % withdrawal', p_decision, w.status using errcode = 'MO409';
  end if;
  if v_event <> 'WithdrawalRejected' and money.is_frozen(w.user_id) then
    raise exception 'the account is frozen: the withdrawal is held until it is unfrozen' using errcode = 'MO414';
  end if;
  if v_event <> 'WithdrawalRejected' and not kyc.is_approved(w.user_id) then
    raise exception 'the user''s KYC approval was revoked: the withdrawal is held' using errcode = 'MO410';
  end if;
  if v_event <> 'WithdrawalRejected' and (select owed_minor from public.user_accounts where user_id = w.user_id) < 0 then
    raise exception 'the user owes money: the withdrawal is held until an admin decides' using errcode = 'MO412';
  end if;
  if p_reason is not null then
    update private.withdrawal_destinations set reason = p_reason where withdrawal_id = p_withdrawal_id;
  end if;
  perform event_store.append_events('withdrawal-' || p_withdrawal_id, 'stream_exists', jsonb_build_array(jsonb_build_object(
    'type', v_event,
    'data', jsonb_build_object('withdrawalId', p_withdrawal_id, 'adminId', p_admin_id)
      || case when v_event = 'WithdrawalPaid' then jsonb_build_object('reference', coalesce(p_reference, '')) else '{}'::jsonb end)),
    coalesce(p_metadata, '{}'::jsonb) || jsonb_build_object('actorId', p_admin_id));
  return money.withdrawal_json(p_withdrawal_id);
end;
$$;

-- What the admin routes answer about an account's controls.
create function money.account_control_json(p_user_id uuid) returns jsonb
language sql stable as $$
  select jsonb_build_object('userId', u.user_id, 'frozen', f.user_id is not null, 'reason', f.reason,
    'frozenAt', money.rfc3339(f.frozen_at), 'frozenBy', f.frozen_by, 'heldMinor', coalesce(a.held_minor, 0))
  from public.users u
  left join money.frozen_accounts f on f.user_id = u.user_id
  left join public.user_accounts a on a.user_id = u.user_id
  where u.user_id = p_user_id
$$;

-- Freeze (p_action 'freeze') or unfreeze ('unfreeze') an account. Freezing a frozen account or
-- unfreezing an unfrozen one changes nothing and answers the current state (a retried request is safe).
create function money.set_account_frozen(
  p_user_id uuid, p_admin_id uuid, p_action text, p_reason text, p_note text default null,
  p_metadata jsonb default '{}'::jsonb
) returns jsonb
language plpgsql as $$
declare
  v_frozen boolean;
  v_result jsonb;
begin
  perform private.assert_admin(p_admin_id);
  if p_action is null or p_action not in ('freeze', 'unfreeze') then
    raise exception 'the action is freeze or unfreeze' using errcode = '22023';
  end if;
  if not exists (select from money.account_control_reasons where action = p_action and reason = p_reason) then
    raise exception 'unknown % reason %', p_action, coalesce(p_reason, '(none)') using errcode = 'AD422';
  end if;
  if p_user_id = p_admin_id then
    raise exception 'nobody freezes or unfreezes their own account' using errcode = 'AD403';
  end if;
  if not exists (select from public.users where user_id = p_user_id) then
    raise exception 'unknown user %', p_user_id using errcode = 'AD404';
  end if;
  -- The same lock as every money command on this user: they run wholly before or wholly after this.
  perform money.lock_users(array[p_user_id]);
  v_frozen := money.is_frozen(p_user_id);
  if v_frozen = (p_action = 'unfreeze') then
    v_result := event_store.append_events('user-' || p_user_id, 'stream_exists', jsonb_build_array(jsonb_build_object(
      'type', case when p_action = 'freeze' then 'AccountFrozen' else 'AccountUnfrozen' end,
      'data', jsonb_build_object('userId', p_user_id, 'adminId', p_admin_id, 'reason', p_reason)
        || case when p_action = 'unfreeze'
                then jsonb_build_object('releasedMinor', (select held_minor from public.user_accounts where user_id = p_user_id))
                else '{}'::jsonb end)),
      coalesce(p_metadata, '{}'::jsonb) || jsonb_build_object('actorId', p_admin_id));
    if nullif(btrim(p_note), '') is not null then
      insert into private.account_control_notes (event_position, user_id, note)
      values ((v_result -> 'positions' ->> 0)::bigint, p_user_id, btrim(p_note));
    end if;
  end if;
  return money.account_control_json(p_user_id) || jsonb_build_object('changed', v_frozen = (p_action = 'unfreeze'));
end;
$$;
comment on function money.set_account_frozen(uuid, uuid, text, text, text, jsonb) is
  'Admin: freeze or unfreeze an account with a reason code (money.account_control_reasons) and an optional private note. Use POST /admin/users/{id}/freeze or /unfreeze.';

-- Role changes by an admin. One at a time (an advisory lock taken before the actor's own check, so two
-- admins demoting each other queue instead of deadlocking on each other's credentials rows, and the
-- second sees the first's result): the count of admins is then exact, and nobody demotes the last one.
-- The role lives in private.credentials (not a projection: it sits beside the password hash); RoleChanged
-- is the audit record, with the admin who made the change (null: an operator, private.promote_to_admin).
create function private.change_role(
  p_user_id uuid, p_admin_id uuid, p_role text, p_note text default null, p_metadata jsonb default '{}'::jsonb
) returns jsonb
language plpgsql as $$
declare
  v_from text;
  v_result jsonb;
begin
  perform pg_advisory_xact_lock(hashtextextended('accrue:roles', 0));
  perform private.assert_admin(p_admin_id);
  if p_role is null or p_role not in ('user', 'admin') then
    raise exception 'the role is user or admin' using errcode = '22023';
  end if;
  select role into v_from from private.credentials where user_id = p_user_id for update;
  if v_from is null then
    raise exception 'unknown user %', p_user_id using errcode = 'AD404';
  end if;
  if v_from <> p_role then
    if v_from = 'admin' and (select count(*) from private.credentials where role = 'admin') <= 1 then
      raise exception 'last_admin: nobody may demote the last admin' using errcode = 'AD409';
    end if;
    update private.credentials set role = p_role, role_changed_at = now() where user_id = p_user_id;
    v_result := event_store.append_events('user-' || p_user_id, 'any', jsonb_build_array(jsonb_build_object(
      'type', 'RoleChanged',
      'data', jsonb_build_object('userId', p_user_id, 'fromRole', v_from, 'toRole', p_role, 'adminId', p_admin_id))),
      coalesce(p_metadata, '{}'::jsonb) || jsonb_build_object('actorId', p_admin_id));
    if nullif(btrim(p_note), '') is not null then
      insert into private.account_control_notes (event_position, user_id, note)
      values ((v_result -> 'positions' ->> 0)::bigint, p_user_id, btrim(p_note));
    end if;
  end if;
  return jsonb_build_object('userId', p_user_id, 'role', p_role, 'changed', v_from <> p_role);
end;
$$;
revoke all on function private.change_role(uuid, uuid, text, text, jsonb) from public;
comment on function private.change_role(uuid, uuid, text, text, jsonb) is
  'Admin: promote (admin) or demote (user) a user; effective on their next request. AD409 for the last admin. Use POST /admin/users/{id}/role.';

-- The operator's promotion (as in 20261122040011_create_promote_to_admin.sql) now leaves a RoleChanged
-- too, with no admin (metadata names the database user who ran it).
create or replace function private.promote_to_admin(p_email text) returns uuid
language plpgsql as $$
declare
  v_user_id uuid;
begin
  select user_id into v_user_id from private.profiles where email = lower(btrim(normalize(p_email, nfc)));
  if v_user_id is null then
    raise exception 'no user with email %', p_email using errcode = 'AU404';
  end if;
  update private.credentials set role = 'admin', role_changed_at = now()
  where user_id = v_user_id and role <> 'admin';
  if found then
    raise log 'promote_to_admin: user % promoted by %', v_user_id, session_user;
    perform event_store.append_events('user-' || v_user_id, 'any', jsonb_build_array(jsonb_build_object(
      'type', 'RoleChanged',
      'data', jsonb_build_object('userId', v_user_id, 'fromRole', 'user', 'toRole', 'admin', 'adminId', null))),
      jsonb_build_object('actorId', null, 'operator', session_user));
  end if;
  return v_user_id;
end;
$$;
