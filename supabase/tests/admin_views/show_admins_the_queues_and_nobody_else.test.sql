begin;
select plan(4);

create temp table t as select test_support.kyc_user() as u, test_support.kyc_user(true) as admin;
select test_support.kyc_submit((select u from t));

select ok((select email from admin.kyc_queue where user_id = (select u from t)) like 'kyc-%@example.test',
  'the KYC queue shows the pending case with its email');
select ok((select role from admin.users where user_id = (select admin from t)) = 'admin', 'admin.users shows roles');
select is((select coalesce(sum(balance_minor), 0) from admin.platform_balances), coalesce((
  select -sum(amount_minor) from public.ledger_entries where user_id is not null), 0), 'platform balances mirror the users''');

set local role authenticated;
select throws_ok('select count(*) from admin.users', '42501', null, 'signed-in users cannot read the admin schema');

select * from finish();
rollback;
