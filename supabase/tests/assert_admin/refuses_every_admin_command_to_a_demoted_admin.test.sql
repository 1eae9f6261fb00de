begin;
select plan(12);

-- An admin, a customer with a pending withdrawal and a pending KYC case, and a package.
create temp table t as select test_support.kyc_user(true) as admin, test_support.kyc_user() as u,
  gen_random_uuid() as w, gen_random_uuid() as pkg, gen_random_uuid() as other_pkg;
select test_support.fund((select u from t));
select test_support.approve_kyc((select u from t));
select money.request_withdrawal((select w from t), (select u from t), 2000, 'USD', 'IBAN DE00');
create temp table c as select (test_support.kyc_submit(test_support.kyc_user()) ->> 'caseId')::uuid as id;

select lives_ok($$select money.publish_package((select pkg from t), 'Gold', 10000, 'USD', 100, 30,
  jsonb_build_object('actorId', (select admin from t)))$$, 'an admin publishes');

-- Demoted, as an operator would do it; their access token would stay valid for up to 15 minutes.
update private.credentials set role = 'user' where user_id = (select admin from t);
create temp table before as select (select max(position) from event_store.events) as last_position;

select throws_ok($$select money.publish_package((select other_pkg from t), 'Gold', 10000, 'USD', 100, 30,
  jsonb_build_object('actorId', (select admin from t)))$$, 'KY403', null, 'a demoted admin cannot publish');
select throws_ok($$select money.retire_package((select pkg from t), jsonb_build_object('actorId', (select admin from t)))$$,
  'KY403', null, 'nor retire');
select throws_ok($$select money.decide_withdrawal((select w from t), (select admin from t), 'approve')$$,
  'KY403', null, 'nor decide a withdrawal');
select throws_ok($$select money.decide_withdrawal(gen_random_uuid(), (select admin from t), 'approve')$$,
  'KY403', null, 'nor learn whether a withdrawal exists');
select throws_ok($$select test_support.kyc_decide((select id from c), (select admin from t), 'KycApproved')$$,
  'KY403', null, 'nor decide a KYC case');
select throws_ok($$select money.publish_package((select other_pkg from t), 'Gold', 10000, 'USD', 100, 30)$$,
  'KY403', null, 'a command without an actor is refused too');
select throws_ok($$select money.decide_withdrawal((select w from t), (select u from t), 'reject')$$,
  'KY403', null, 'as is a user who never was an admin');

select is((select status from public.withdrawals where withdrawal_id = (select w from t)), 'pending', 'the withdrawal is untouched');
select is((select status from public.kyc_cases where case_id = (select id from c)), 'pending', 'the case is untouched');
select is((select status from public.packages where package_id = (select pkg from t)), 'active', 'the package is untouched');
select is((select max(position) from event_store.events), (select last_position from before), 'and no event was appended');

select * from finish();
rollback;
