-- Kyc* events → public.kyc_cases and public.users.kyc_status. A user has at most one open case and
-- only their latest case can change, so each event sets the user's status outright. Times are the
-- events', so a rebuild reproduces every row exactly.
create function projections.project_kyc_event(e event_store.events) returns void
language plpgsql as $$
declare
  v_case_id uuid := (e.data ->> 'caseId')::uuid;
  v_user_id uuid := (e.data ->> 'userId')::uuid;
  v_status text;
begin
  if e.type = 'KycSubmitted' then
    v_status := 'pending';
    insert into public.kyc_cases (case_id, user_id, status, document_count, version, submitted_position, submitted_at)
    values (v_case_id, v_user_id, v_status, jsonb_array_length(e.data -> 'documents'), e.stream_version,
            e.position, e.recorded_at);
  else
    v_status := case e.type
      when 'KycApproved' then 'approved'
      when 'KycRejected' then 'rejected'
      when 'KycResubmissionRequested' then 'resubmission_requested'
      when 'KycApprovalRevoked' then 'revoked'
    end;
    if v_status is null then
      raise exception 'project_kyc_event: unexpected event type %', e.type using errcode = '22023';
    end if;
    update public.kyc_cases
    set status = v_status,
        final = coalesce((e.data ->> 'final')::boolean, false),
        version = e.stream_version,
        decided_at = e.recorded_at,
        decided_by = (e.data ->> 'adminId')::uuid
    where case_id = v_case_id;
    if not found then
      raise exception 'project_kyc_event: % for unknown case %', e.type, v_case_id using errcode = '22023';
    end if;
  end if;
  -- The contract's statuses have no "revoked": a revoked approval reads as rejected (and is not approved).
  update public.users set kyc_status = case v_status when 'revoked' then 'rejected' else v_status end
  where user_id = v_user_id;
end;
$$;

insert into projections.handlers (event_type, handler, priority)
select t, 'projections.project_kyc_event(event_store.events)'::regprocedure, 50
from unnest(array['KycSubmitted', 'KycApproved', 'KycRejected', 'KycResubmissionRequested', 'KycApprovalRevoked']) as t;
