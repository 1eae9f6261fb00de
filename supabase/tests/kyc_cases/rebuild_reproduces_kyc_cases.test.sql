begin;
select plan(2);

create temp table u as select test_support.kyc_user() as a, test_support.kyc_user() as b, test_support.kyc_user(true) as admin;
select test_support.kyc_submit((select a from u));
select test_support.kyc_decide((select case_id from public.kyc_cases where user_id = (select a from u)), (select admin from u), 'KycApproved');
select test_support.kyc_decide((select case_id from public.kyc_cases where user_id = (select a from u)), (select admin from u), 'KycApprovalRevoked');
select test_support.kyc_submit((select b from u));

select is_empty('select * from projections.verify_rebuild()', 'rebuilding from events gives the live KYC cases and statuses');
select is((select kyc_status from public.users where user_id = (select a from u)), 'rejected', 'the revocation survives the rebuild');

select * from finish();
rollback;
