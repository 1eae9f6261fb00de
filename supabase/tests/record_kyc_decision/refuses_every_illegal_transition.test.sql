begin;
select plan(21);
-- Helpers (pg_temp: gone with the transaction): a registered user, an admin, a submission, a decision.
create function pg_temp.new_user(p_admin boolean default false) returns uuid language plpgsql as $f$
declare v uuid := gen_random_uuid();
begin
  perform private.register_user(v, 'kyc-' || v || '@example.test', '$scrypt$x', test_support.referral_code(), null,
    gen_random_uuid(), md5(v::text) || md5(v::text), 60);
  if p_admin then perform private.promote_to_admin('kyc-' || v || '@example.test'); end if;
  return v;
end $f$;
create function pg_temp.submit(p_user uuid, p_case uuid default gen_random_uuid()) returns jsonb language sql as $f$
  select kyc.submit_case(
    jsonb_build_object('type', 'KycSubmitted', 'schemaVersion', 1, 'data', jsonb_build_object('caseId', p_case,
      'userId', p_user, 'documents', jsonb_build_array(jsonb_build_object('documentId', d, 'sha256', repeat('a', 64))))),
    '{"fullName": "Ann Lee", "dateOfBirth": "1990-01-01", "country": "DE"}',
    jsonb_build_array(jsonb_build_object('documentId', d, 'sha256', repeat('a', 64), 'contentType', 'image/png',
      'sizeBytes', 10, 'storageKey', p_user || '/' || p_case || '/' || d)))
  from (select gen_random_uuid() as d) x
$f$;
create function pg_temp.decide(p_case uuid, p_admin uuid, p_type text, p_final boolean default false) returns jsonb
language sql as $f$
  select kyc.record_decision(jsonb_build_object('type', p_type, 'schemaVersion', 1, 'data',
      jsonb_build_object('caseId', c.case_id, 'userId', c.user_id, 'adminId', p_admin)
      || case when p_type in ('KycRejected', 'KycApprovalRevoked') then jsonb_build_object('final', p_final) else '{}' end),
    c.version, 'A reason for the user', 'An internal note')
  from public.kyc_cases c where c.case_id = p_case
$f$;

create temp table u as select pg_temp.new_user(true) as admin;
-- One case in each status.
create temp table cases (status text primary key, case_id uuid);
do $$
declare s text; v_user uuid; v_case uuid; v_admin uuid := (select admin from u);
begin
  foreach s in array array['pending', 'approved', 'rejected', 'resubmission_requested', 'revoked'] loop
    v_user := pg_temp.new_user();
    v_case := (pg_temp.submit(v_user) ->> 'caseId')::uuid;
    if s in ('approved', 'revoked') then perform pg_temp.decide(v_case, v_admin, 'KycApproved'); end if;
    if s = 'revoked' then perform pg_temp.decide(v_case, v_admin, 'KycApprovalRevoked'); end if;
    if s = 'rejected' then perform pg_temp.decide(v_case, v_admin, 'KycRejected'); end if;
    if s = 'resubmission_requested' then perform pg_temp.decide(v_case, v_admin, 'KycResubmissionRequested'); end if;
    insert into cases values (s, v_case);
  end loop;
end $$;

-- Every (status, decision) pair outside the four allowed transitions is refused with KY422.
select throws_ok(format('select pg_temp.decide(%L, %L, %L)', c.case_id, (select admin from u), t.event), 'KY422', null,
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
