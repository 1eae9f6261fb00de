begin;
select plan(8);

create temp table u as select test_support.kyc_user() as id, test_support.kyc_user(true) as admin;
create temp table c1 as select (test_support.kyc_submit((select id from u)) ->> 'caseId')::uuid as id;

select is((select status from public.kyc_cases where case_id = (select id from c1)), 'pending', 'the case is pending');
select is((select kyc_status from public.users where user_id = (select id from u)), 'pending', 'and so is the user');
select throws_ok($$select test_support.kyc_submit((select id from u))$$, 'KY409', null, 'a second submission while pending is refused');
select throws_ok($$select test_support.kyc_submit((select id from u), (select id from c1))$$, 'KY412', null,
  'the same case id again is reported as existing');
select throws_ok($$select test_support.kyc_submit(gen_random_uuid())$$, 'KY404', null, 'an unknown user cannot submit');

select test_support.kyc_decide((select id from c1), (select admin from u), 'KycResubmissionRequested');
select lives_ok($$select test_support.kyc_submit((select id from u))$$, 'after a resubmission request a new case opens');
select test_support.kyc_decide((select case_id from public.kyc_cases where user_id = (select id from u) and status = 'pending'),
  (select admin from u), 'KycApproved');
select throws_ok($$select test_support.kyc_submit((select id from u))$$, 'KY422', null, 'an approved user cannot submit');
select is((select count(*) from public.kyc_cases where user_id = (select id from u)), 2::bigint, 'two cases in all');

select * from finish();
rollback;
