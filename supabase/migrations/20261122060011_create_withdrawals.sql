-- Withdrawals: money leaves only after KYC and review, and never twice. The request moves the amount at
-- once from available to in transit (so it cannot be spent twice); a rejection moves it back; marking
-- it paid sends it to the platform's payouts account. Errors (SQLSTATE): MO402 insufficient funds,
-- MO403 KYC not approved, MO404 unknown withdrawal, MO409 transition not allowed, MO410 KYC revoked
-- while pending (approve and mark_paid wait for a new approval), MO411 an admin deciding their own,
-- MO422 below the minimum or another currency.
create table public.withdrawals (
  withdrawal_id uuid primary key,
  user_id uuid not null,
  amount_minor bigint not null,
  currency text not null,
  status text not null,
  requested_at timestamptz not null,
  decided_at timestamptz,
  decided_by uuid,
  reference text,
  constraint withdrawals_amount_positive check (amount_minor > 0),
  constraint withdrawals_status_check check (status in ('pending', 'approved', 'rejected', 'paid'))
);
comment on table public.withdrawals is 'Projection of Withdrawal* events. decided_by is the admin of the last decision; reference is the payout''s external reference.';
create index withdrawals_user_idx on public.withdrawals (user_id, requested_at desc, withdrawal_id desc);
create index withdrawals_status_idx on public.withdrawals (status, requested_at, withdrawal_id);
select projections.register_table('public.withdrawals', 'user_id');

-- Where the money goes is personal data: kept apart, erasable, never in an event.
create table private.withdrawal_destinations (
  withdrawal_id uuid primary key,
  destination text not null,
  reason text,
  constraint withdrawal_destinations_length check (length(destination) between 1 and 500)
);
comment on table private.withdrawal_destinations is 'Payout destination and the rejection reason typed by an admin, per withdrawal (erasable).';

create function projections.project_withdrawal(e event_store.events) returns void
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
    perform projections.post_entries(e, w.withdrawal_id,
        array['in_transit', 'available'],
        array[-w.amount_minor, w.amount_minor]::bigint[],
        array[w.user_id, w.user_id]::uuid[]);
  elsif e.type = 'WithdrawalPaid' then
    update public.user_accounts set withdrawn_minor = withdrawn_minor + w.amount_minor where user_id = w.user_id;
    perform projections.post_entries(e, w.withdrawal_id,
        array['in_transit', 'payouts'],
        array[-w.amount_minor, w.amount_minor]::bigint[],
        array[w.user_id, null]::uuid[]);
  end if;
end;
$$;
insert into projections.handlers (event_type, handler, priority) values
  ('WithdrawalRequested', 'projections.project_withdrawal(event_store.events)'::regprocedure, 10),
  ('WithdrawalApproved', 'projections.project_withdrawal(event_store.events)'::regprocedure, 10),
  ('WithdrawalRejected', 'projections.project_withdrawal(event_store.events)'::regprocedure, 10),
  ('WithdrawalPaid', 'projections.project_withdrawal(event_store.events)'::regprocedure, 10);

create function money.withdrawal_json(p_withdrawal_id uuid) returns jsonb
language sql stable as $$
  select jsonb_build_object('id', withdrawal_id, 'amountMinor', amount_minor, 'currency', currency, 'status', status,
    'requestedAt', money.rfc3339(requested_at), 'decidedAt', money.rfc3339(decided_at), 'reference', reference)
  from public.withdrawals where withdrawal_id = p_withdrawal_id
$$;

-- KYC approval and the balance are checked in the same transaction as the debit, under the user's
-- lock: N concurrent requests against a balance B admit exactly floor(B / x) of x.
create function money.request_withdrawal(
  p_withdrawal_id uuid, p_user_id uuid, p_amount_minor bigint, p_currency text, p_destination text,
  p_metadata jsonb default '{}'::jsonb
) returns jsonb
language plpgsql as $$
declare
  v_settings money.settings := money.settings();
  v_available bigint;
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
  if not kyc.is_approved(p_user_id) then
    raise exception 'an approved KYC case is required' using errcode = 'MO403';
  end if;
  select available_minor into v_available from public.user_accounts where user_id = p_user_id;
  if coalesce(v_available, 0) < p_amount_minor then
    raise exception 'available % is less than %', coalesce(v_available, 0), p_amount_minor using errcode = 'MO402';
  end if;
  insert into private.withdrawal_destinations (withdrawal_id, destination) values (p_withdrawal_id, p_destination);
  perform event_store.append_events('withdrawal-' || p_withdrawal_id, 'no_stream', jsonb_build_array(jsonb_build_object(
    'type', 'WithdrawalRequested',
    'data', jsonb_build_object('withdrawalId', p_withdrawal_id, 'userId', p_user_id, 'amountMinor', p_amount_minor,
      'currency', v_settings.currency))), coalesce(p_metadata, '{}'::jsonb) || jsonb_build_object('actorId', p_user_id));
  return money.withdrawal_json(p_withdrawal_id);
end;
$$;

-- Admin decisions: approve (pending → approved), reject (pending or approved → rejected, money back),
-- mark_paid (approved → paid, with the external reference). Returns the withdrawal.
create function money.decide_withdrawal(
  p_withdrawal_id uuid, p_admin_id uuid, p_decision text, p_reference text default null, p_reason text default null,
  p_metadata jsonb default '{}'::jsonb
) returns jsonb
language plpgsql as $$
declare
  w public.withdrawals;
  v_event text;
begin
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
  if v_event <> 'WithdrawalRejected' and not kyc.is_approved(w.user_id) then
    raise exception 'the user''s KYC approval was revoked: the withdrawal is held' using errcode = 'MO410';
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
