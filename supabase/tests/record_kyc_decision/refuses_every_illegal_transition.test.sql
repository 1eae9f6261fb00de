begin;
select plan(21);

create temp table u as select test_support.kyc_user(true) as admin;
-- One case in each status.
create temp table cases (status text primary key, case_id uuid);
do $$
declare s text; v_user uuid; v_case uuid; v_admin uuid := (select admin from u);
begin
  foreach s in array array['pending', 'approved', 'rejected', 'resubmission_requested', 'revoked'] loop
    v_user := test_support.kyc_user();
    v_case := (test_support.kyc_submit(v_user) ->> 'caseId')::uuid;
    if s in ('approved', 'revoked') then perform test_support.kyc_decide(v_case, v_admin, 'KycApproved'); end if;
    if s = 'revoked' then perform test_support.kyc_decide(v_case, v_admin, 'KycApprovalRevoked'); end if;
    if s = 'rejected' then perform test_support.kyc_decide(v_case, v_admin, 'KycRejected'); end if;
    if s = 'resubmission_requested' then perform test_support.kyc_decide(v_case, v_admin, 'KycResubmissionRequested'); end if;
    insert into cases values (s, v_case);
  end loop;
end $$;

-- Every (status, decision) pair outside the four allowed transitions is refused with KY422.
select throws_ok(format('select test_support.kyc_decide(%L, %L, %L)', c.case_id, (select admin from u), t.event), 'KY422', null,
  format('%s from %s is refused', t.event, c.status))
from cases c cross join (values ('KycApproved', 'pending'), ('KycRejected', 'pending'),
  ('KycResubmissionRequested', 'pending'), ('KycApprovalRevoked', 'approved')) as t(event, allowed_from)
where c.status <> t.allowed_from
order by c.status, t.event;

select is((select count(*) from event_store.events where stream_id in (select 'kyc-' || case_id from cases)),
  (1 + 2 + 2 + 2 + 3)::bigint, 'refused decisions appended nothing');
select is((select count(*) from private.kyc_decisions where case_id in (select case_id from cases)), 5::bigint,
  'and recorded no reason or note');
select throws_ok($$select kyc.record_decision(jsonb_build_object('type', 'KycApproved', 'data', jsonb_build_object(
  'caseId', gen_random_uuid(), 'userId', gen_random_uuid(), 'adminId', (select admin from u))), 1)$$, 'KY404', null,
  'an unknown case is 404');
select throws_ok(format($$select kyc.record_decision(jsonb_build_object('type', 'KycApproved', 'data', jsonb_build_object(
  'caseId', %L::uuid, 'userId', c.user_id, 'adminId', %L::uuid)), 0) from public.kyc_cases c where case_id = %L$$,
  (select case_id from cases where status = 'pending'), (select admin from u), (select case_id from cases where status = 'pending')),
  'ES409', null, 'a stale expected version is refused');
select is((select status from public.kyc_cases where case_id = (select case_id from cases where status = 'pending')), 'pending',
  'and the case is unchanged');
select * from finish();
rollback;
