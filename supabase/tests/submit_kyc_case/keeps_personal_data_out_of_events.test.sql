begin;
select plan(4);
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

create temp table u as select pg_temp.new_user() as id;
create temp table c as select (pg_temp.submit((select id from u)) ->> 'caseId')::uuid as id;
create temp table e as select * from event_store.events where stream_id = 'kyc-' || (select id from c);

select is((select count(*) from e), 1::bigint, 'one KycSubmitted on the case stream');
select is((select jsonb_object_keys(data -> 'documents' -> 0) from e order by 1 limit 1), 'documentId',
  'documents are ids and digests');
select ok((select data::text !~ '(Ann Lee|1990-01-01|"DE"|image/png|storage)' from e), 'no name, birth date, country or file data');
select is((select full_name || '/' || country from private.kyc_applicants where case_id = (select id from c)), 'Ann Lee/DE',
  'the applicant is in the private table');

select * from finish();
rollback;
