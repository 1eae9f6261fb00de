-- The withdrawal request with every check of today's changes in one definition: account controls
-- (20261202020000: frozen, MO413) and email verification (20261202040100: MO405) were written in parallel
-- from the same base, and the later file would otherwise drop the freeze check. Order: retry, frozen, KYC,
-- verified address, debt, balance.
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
  if not private.email_verified(p_user_id) then
    raise exception 'a verified email address is required' using errcode = 'MO405';
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
