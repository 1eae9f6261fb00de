-- Submit a KYC case in one round trip: store the applicant's fields and document metadata (private,
-- erasable) and append KycSubmitted, whose projection opens the case and sets users.kyc_status.
-- p_event is the KycSubmitted event the kyc function decided ({type, schemaVersion, data}); p_documents
-- describes the same documents ([{documentId, sha256, contentType, sizeBytes, storageKey}], in order).
--
-- Two submissions of one user at once: the user row lock makes the second wait, then see the first
-- case pending (KY409); exactly one case is opened. The rule is checked here, under the lock, whatever
-- the caller checked before.
-- Errors (SQLSTATE): KY404 unknown user; KY409 a case is pending; KY422 approved already or finally
-- refused; KY412 a case with this id exists (an Idempotency-Key retry: the caller compares digests).
create function kyc.submit_case(
  p_event jsonb,
  p_applicant jsonb,
  p_documents jsonb,
  p_metadata jsonb default '{}'::jsonb
) returns jsonb
language plpgsql as $$
declare
  v_case_id uuid := (p_event #>> '{data,caseId}')::uuid;
  v_user_id uuid := (p_event #>> '{data,userId}')::uuid;
  v_latest public.kyc_cases;
begin
  if p_event ->> 'type' is distinct from 'KycSubmitted' or v_case_id is null or v_user_id is null then
    raise exception 'submit_case needs a KycSubmitted event' using errcode = '22023';
  end if;
  if (select jsonb_agg(jsonb_build_object('documentId', d ->> 'documentId', 'sha256', d ->> 'sha256') order by o)
      from jsonb_array_elements(p_documents) with ordinality as x(d, o))
     is distinct from
     (select jsonb_agg(jsonb_build_object('documentId', d ->> 'documentId', 'sha256', d ->> 'sha256') order by o)
      from jsonb_array_elements(p_event #> '{data,documents}') with ordinality as x(d, o)) then
    raise exception 'the documents differ from the event''s' using errcode = '22023';
  end if;

  -- Lock first (projections.handlers' rule): it serialises one user's submissions and decisions.
  perform 1 from public.users where user_id = v_user_id for update;
  if not found then
    raise exception 'unknown user %', v_user_id using errcode = 'KY404';
  end if;
  if exists (select from public.kyc_cases where case_id = v_case_id) then
    raise exception 'kyc_case_exists: %', v_case_id using errcode = 'KY412';
  end if;
  select * into v_latest from public.kyc_cases where user_id = v_user_id order by submitted_position desc limit 1;
  if v_latest.status = 'pending' then
    raise exception 'kyc_case_pending: case % is under review', v_latest.case_id using errcode = 'KY409';
  end if;
  if v_latest.status = 'approved' or (v_latest.status in ('rejected', 'revoked') and v_latest.final) then
    raise exception 'kyc_submission_not_allowed: latest case % is %', v_latest.case_id, v_latest.status
      using errcode = 'KY422';
  end if;

  insert into private.kyc_applicants (case_id, user_id, full_name, date_of_birth, country)
  values (v_case_id, v_user_id, p_applicant ->> 'fullName', (p_applicant ->> 'dateOfBirth')::date,
          p_applicant ->> 'country');
  insert into private.kyc_documents (document_id, case_id, user_id, ordinal, content_type, size_bytes, sha256, storage_key)
  select (d ->> 'documentId')::uuid, v_case_id, v_user_id, o, d ->> 'contentType', (d ->> 'sizeBytes')::int,
         d ->> 'sha256', d ->> 'storageKey'
  from jsonb_array_elements(p_documents) with ordinality as x(d, o);

  perform event_store.append_events(
    'kyc-' || v_case_id,
    'no_stream',
    jsonb_build_array(p_event),
    coalesce(p_metadata, '{}'::jsonb) || jsonb_build_object('actorId', v_user_id)
  );
  return jsonb_build_object('caseId', v_case_id, 'status', 'pending');
end;
$$;
revoke all on function kyc.submit_case(jsonb, jsonb, jsonb, jsonb) from public;
comment on function kyc.submit_case(jsonb, jsonb, jsonb, jsonb) is
  'Open a KYC case: applicant + documents (private) and KycSubmitted. KY404 unknown user, KY409 a case is pending, KY422 not allowed, KY412 case id exists.';
