-- Checkouts and freezes meet on an advisory lock per account, not on the buyer's row (as in
-- 20261202020000_create_account_controls.sql). A checkout's FOR SHARE row lock could be upgraded to the
-- FOR UPDATE that money.lock_users takes when the same transaction goes on to complete a purchase (a
-- test helper does both at once): two such transactions of one buyer deadlocked. The advisory lock is
-- taken shared by checkouts, which never wait on each other, and exclusively by a freeze before any row
-- lock, so a checkout either committed before the freeze or sees it.
create function money.lock_account_controls(p_user_id uuid, p_exclusive boolean) returns void
language sql as $$
  select case when p_exclusive then pg_advisory_xact_lock(hashtextextended('accrue:account:' || p_user_id, 0))
              else pg_advisory_xact_lock_shared(hashtextextended('accrue:account:' || p_user_id, 0)) end
$$;

create or replace function money.start_checkout(
  p_purchase_id uuid, p_user_id uuid, p_package_id uuid, p_stripe_session_id text, p_metadata jsonb default '{}'::jsonb
) returns jsonb
language plpgsql as $$
declare
  v_package public.packages;
begin
  perform money.lock_account_controls(p_user_id, false);
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

-- As before, with the account's advisory lock taken exclusively before the user's row lock.
create or replace function money.set_account_frozen(
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
  -- Checkouts first (their advisory lock), then the same row lock as every money command on this user:
  -- they all run wholly before or wholly after this.
  perform money.lock_account_controls(p_user_id, true);
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
