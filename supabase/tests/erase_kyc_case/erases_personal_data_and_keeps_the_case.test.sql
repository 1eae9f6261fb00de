begin;
select plan(5);

create temp table u as select test_support.kyc_user() as id, test_support.kyc_user(true) as admin;
create temp table c as select (test_support.kyc_submit((select id from u)) ->> 'caseId')::uuid as id;
select test_support.kyc_decide((select id from c), (select admin from u), 'KycRejected');

select is(array_length(private.erase_kyc_case((select id from c)), 1), 1, 'returns the storage key of each file');
select is_empty(format('select 1 from private.kyc_applicants where case_id = %L', (select id from c)), 'the applicant is gone');
select is_empty(format('select 1 from private.kyc_documents where case_id = %L', (select id from c)), 'and the document rows');
select is((select coalesce(reason, note, 'erased') from private.kyc_decisions where case_id = (select id from c)), 'erased',
  'reasons and notes are erased, the decision stays');
select is((select status from public.kyc_cases where case_id = (select id from c)), 'rejected', 'the case and its events stay');

select * from finish();
rollback;
