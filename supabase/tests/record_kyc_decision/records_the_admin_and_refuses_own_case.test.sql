begin;
select plan(9);
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

create temp table u as select pg_temp.new_user() as id, pg_temp.new_user(true) as admin, pg_temp.new_user(true) as other_admin;
create temp table c as select (pg_temp.submit((select id from u)) ->> 'caseId')::uuid as id;
create temp table mine as select (pg_temp.submit((select admin from u)) ->> 'caseId')::uuid as id;

select throws_ok($$select pg_temp.decide((select id from mine), (select admin from u), 'KycApproved')$$, 'KY403', null,
  'an admin cannot decide their own case');
select lives_ok($$select pg_temp.decide((select id from mine), (select other_admin from u), 'KycApproved')$$,
  'another admin can');
select throws_ok($$select pg_temp.decide((select id from c), (select id from u), 'KycApproved')$$, 'KY403', null,
  'a user who is not an admin cannot decide');

select is(pg_temp.decide((select id from c), (select admin from u), 'KycApproved') ->> 'status', 'approved', 'approved');
select is((select decided_by from public.kyc_cases where case_id = (select id from c)), (select admin from u),
  'the case records the admin');
select is((select metadata ->> 'actorId' from event_store.events where stream_id = 'kyc-' || (select id from c)
  and type = 'KycApproved'), (select admin::text from u), 'so does the event');
select ok(kyc.is_approved((select id from u)), 'the user is approved');

select pg_temp.decide((select id from c), (select other_admin from u), 'KycApprovalRevoked', true);
select ok(not kyc.is_approved((select id from u)), 'a revocation takes the approval away');
select is((select u2.kyc_status || '/' || d.reason from public.users u2, private.kyc_decisions d
  where u2.user_id = (select id from u) and d.case_id = (select id from c) and d.case_version = 3),
  'rejected/A reason for the user', 'the user reads rejected, with the reason kept privately');

select * from finish();
rollback;
