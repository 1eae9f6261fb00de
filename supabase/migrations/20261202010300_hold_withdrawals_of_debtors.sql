-- Withdrawals while the account owes (issue "Close the leaks", item 2): a new request is refused
-- (MO423, 422 outstanding_balance) after the KYC check and before the balance check; approving or
-- paying a pending one is held (MO412, 422 invalid_state) until the debt is paid down or an admin
-- rejects it (which returns the amount and pays the debt down with it).
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
