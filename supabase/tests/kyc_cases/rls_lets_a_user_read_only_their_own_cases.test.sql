begin;
select plan(3);

create temp table u as select test_support.kyc_user() as a, test_support.kyc_user() as b;
select test_support.kyc_submit((select a from u));
select test_support.kyc_submit((select b from u));
grant select on u to authenticated;

set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', (select a from u), 'role', 'authenticated')::text, true);
select results_eq('select user_id from public.kyc_cases', 'select a from u', 'a user sees only their own case');
select throws_ok('select * from private.kyc_applicants', '42501', null, 'and no applicant data at all');
set local request.jwt.claims = '{"role":"authenticated"}';
select is_empty('select 1 from public.kyc_cases', 'a token without a subject sees nothing');

select * from finish();
rollback;
