begin;
select plan(4);

create temp table u as select test_support.kyc_user() as id;
create temp table c as select (test_support.kyc_submit((select id from u)) ->> 'caseId')::uuid as id;
create temp table e as select * from event_store.events where stream_id = 'kyc-' || (select id from c);

select is((select count(*) from e), 1::bigint, 'one KycSubmitted on the case stream');
select is((select jsonb_object_keys(data -> 'documents' -> 0) from e order by 1 limit 1), 'documentId',
  'documents are ids and digests');
select ok((select data::text !~ '(Ann Lee|1990-01-01|"DE"|image/png|storage)' from e), 'no name, birth date, country or file data');
select is((select full_name || '/' || country from private.kyc_applicants where case_id = (select id from c)), 'Ann Lee/DE',
  'the applicant is in the private table');

select * from finish();
rollback;
