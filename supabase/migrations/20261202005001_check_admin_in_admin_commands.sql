-- Every SQL admin command checks its actor's current role first (private.assert_admin), in the
-- command's transaction. Each function below is its previous definition with that one check added:
--   kyc.record_decision      the event's adminId (replaces its own inline check, now first, so a
--                            non-admin learns nothing about the case)
--   money.decide_withdrawal  p_admin_id, before anything is read
--   money.publish_package, money.retire_package
--                            the actor the event records (p_metadata.actorId): none is refused

create or replace function kyc.record_decision(
  p_event jsonb,
  p_expected_version bigint,
  p_reason text default null,
  p_note text default null,
  p_metadata jsonb default '{}'::jsonb
) returns jsonb
language plpgsql as $$
declare
  v_case_id uuid := (p_event #>> '{data,caseId}')::uuid;
  v_user_id uuid := (p_event #>> '{data,userId}')::uuid;
  v_admin_id uuid := (p_event #>> '{data,adminId}')::uuid;
  v_final boolean := coalesce((p_event #>> '{data,final}')::boolean, false);
  v_decision text;
  v_from text;
  v_to text;
  v_owner uuid;
  v_case public.kyc_cases;
begin
  select d, f, t into v_decision, v_from, v_to
  from (values ('KycApproved', 'approve', 'pending', 'approved'),
               ('KycRejected', 'reject', 'pending', 'rejected'),
               ('KycResubmissionRequested', 'request_resubmission', 'pending', 'resubmission_requested'),
               ('KycApprovalRevoked', 'revoke', 'approved', 'revoked')) as transitions(e, d, f, t)
  where e = p_event ->> 'type';
  if v_decision is null or v_case_id is null or v_admin_id is null then
    raise exception 'record_decision needs a KYC decision event' using errcode = '22023';
  end if;
  perform private.assert_admin(v_admin_id);

  select user_id into v_owner from public.kyc_cases where case_id = v_case_id;
  if v_owner is null then
    raise exception 'unknown KYC case %', v_case_id using errcode = 'KY404';
  end if;
  if v_owner is distinct from v_user_id then
    raise exception 'the event names another user than the case''s' using errcode = '22023';
  end if;
  -- Users before cases, as in submit_case: the two commands never wait on each other in a cycle.
  perform 1 from public.users where user_id = v_owner for update;
  select * into v_case from public.kyc_cases where case_id = v_case_id for update;

  if v_admin_id = v_owner then
    raise exception 'kyc_own_case: nobody decides their own case' using errcode = 'KY403';
  end if;
  if v_case.status <> v_from then
    raise exception 'kyc_invalid_transition: cannot % a case that is %', v_decision, v_case.status
      using errcode = 'KY422';
  end if;

  insert into private.kyc_decisions (case_id, case_version, decision, admin_id, reason, note, final)
  values (v_case_id, p_expected_version + 1, v_decision, v_admin_id, p_reason, p_note, v_final);
  perform event_store.append_events(
    'kyc-' || v_case_id,
    p_expected_version::text,
    jsonb_build_array(p_event),
    coalesce(p_metadata, '{}'::jsonb) || jsonb_build_object('actorId', v_admin_id)
  );
  return jsonb_build_object('caseId', v_case_id, 'status', v_to, 'final', v_final, 'decidedBy', v_admin_id,
    'decidedAt', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
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

create or replace function money.publish_package(
  p_package_id uuid, p_name text, p_price_minor bigint, p_currency text, p_daily_rate_bps int, p_duration_days int,
  p_metadata jsonb default '{}'::jsonb
) returns jsonb
language plpgsql as $$
begin
  perform private.assert_admin((p_metadata ->> 'actorId')::uuid);
  if p_currency <> (money.settings()).currency then
    raise exception 'packages are priced in the platform currency %', (money.settings()).currency using errcode = 'MO422';
  end if;
  perform event_store.append_events('package-' || p_package_id, 'no_stream', jsonb_build_array(jsonb_build_object(
    'type', 'PackagePublished',
    'data', jsonb_build_object('packageId', p_package_id, 'name', p_name, 'priceMinor', p_price_minor,
      'currency', p_currency, 'dailyRateBps', p_daily_rate_bps, 'durationDays', p_duration_days))), p_metadata);
  return money.package_json(p_package_id);
end;
$$;

create or replace function money.retire_package(p_package_id uuid, p_metadata jsonb default '{}'::jsonb) returns jsonb
language plpgsql as $$
declare
  v_status text;
begin
  perform private.assert_admin((p_metadata ->> 'actorId')::uuid);
  select status into v_status from public.packages where package_id = p_package_id for update;
  if v_status is null then raise exception 'unknown package' using errcode = 'MO404'; end if;
  if v_status = 'retired' then raise exception 'package already retired' using errcode = 'MO409'; end if;
  perform event_store.append_events('package-' || p_package_id, 'stream_exists', jsonb_build_array(jsonb_build_object(
    'type', 'PackageRetired', 'data', jsonb_build_object('packageId', p_package_id))), p_metadata);
  return money.package_json(p_package_id);
end;
$$;
