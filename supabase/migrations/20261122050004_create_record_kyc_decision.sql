-- Record an admin's decision on a KYC case: p_event is the event the admin function decided
-- (KycApproved, KycRejected, KycResubmissionRequested or KycApprovalRevoked), appended at
-- p_expected_version; the user-facing reason and internal note go to private.kyc_decisions.
-- The rules are checked again here, under the locks: the decider is an admin and not the case's
-- owner, and the transition is allowed from the case's current status.
-- Errors (SQLSTATE): KY404 unknown case; KY403 not an admin, or their own case; KY422 transition not
-- allowed; ES409 the case changed since it was read.
create function kyc.record_decision(
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
  -- A token says "admin" for up to its lifetime; the credentials say it now.
  if not exists (select from private.credentials where user_id = v_admin_id and role = 'admin') then
    raise exception 'kyc_not_admin: % is not an admin', v_admin_id using errcode = 'KY403';
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
revoke all on function kyc.record_decision(jsonb, bigint, text, text, jsonb) from public;
comment on function kyc.record_decision(jsonb, bigint, text, text, jsonb) is
  'Record a KYC decision (approve, reject, request resubmission, revoke). KY404 unknown case, KY403 own case or not admin, KY422 illegal transition, ES409 stale version.';
