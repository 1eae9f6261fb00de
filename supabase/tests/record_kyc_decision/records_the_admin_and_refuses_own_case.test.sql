begin;
select plan(9);

create temp table u as select test_support.kyc_user() as id, test_support.kyc_user(true) as admin, test_support.kyc_user(true) as other_admin;
create temp table c as select (test_support.kyc_submit((select id from u)) ->> 'caseId')::uuid as id;
create temp table mine as select (test_support.kyc_submit((select admin from u)) ->> 'caseId')::uuid as id;

select throws_ok($$select test_support.kyc_decide((select id from mine), (select admin from u), 'KycApproved')$$, 'KY403', null,
  'an admin cannot decide their own case');
select lives_ok($$select test_support.kyc_decide((select id from mine), (select other_admin from u), 'KycApproved')$$,
  'another admin can');
select throws_ok($$select test_support.kyc_decide((select id from c), (select id from u), 'KycApproved')$$, 'KY403', null,
  'a user who is not an admin cannot decide');

select is(test_support.kyc_decide((select id from c), (select admin from u), 'KycApproved') ->> 'status', 'approved', 'approved');
select is((select decided_by from public.kyc_cases where case_id = (select id from c)), (select admin from u),
  'the case records the admin');
select is((select metadata ->> 'actorId' from event_store.events where stream_id = 'kyc-' || (select id from c)
  and type = 'KycApproved'), (select admin::text from u), 'so does the event');
select ok(kyc.is_approved((select id from u)), 'the user is approved');

select test_support.kyc_decide((select id from c), (select other_admin from u), 'KycApprovalRevoked', true);
select ok(not kyc.is_approved((select id from u)), 'a revocation takes the approval away');
select is((select u2.kyc_status || '/' || d.reason from public.users u2, private.kyc_decisions d
  where u2.user_id = (select id from u) and d.case_id = (select id from c) and d.case_version = 3),
  'rejected/A reason for the user', 'the user reads rejected, with the reason kept privately');

select * from finish();
rollback;
