begin;
select plan(5);

-- A funded user with an approved KYC case but no verified address.
create temp table t as select test_support.chain(1) as c;
select test_support.fund((select c[1] from t));
create temp table k as select gen_random_uuid() as case_id;
select event_store.append_events('kyc-' || (select case_id from k), 'no_stream', jsonb_build_array(
  jsonb_build_object('type', 'KycSubmitted', 'data', jsonb_build_object('caseId', (select case_id from k), 'userId', (select c[1] from t),
    'documents', jsonb_build_array(jsonb_build_object('documentId', gen_random_uuid(), 'sha256', repeat('a', 64))))),
  jsonb_build_object('type', 'KycApproved', 'data', jsonb_build_object('caseId', (select case_id from k), 'userId', (select c[1] from t),
    'adminId', gen_random_uuid()))));

select throws_ok(format($$select money.request_withdrawal(gen_random_uuid(), %L, 1000, 'USD', 'IBAN DE00')$$, (select c[1] from t)),
  'MO405', null, 'an unverified address: refused');
select throws_ok(format($$select money.request_withdrawal(gen_random_uuid(), %L, 999999999, 'USD', 'IBAN DE00')$$, (select c[1] from t)),
  'MO405', null, 'checked before the balance');
select throws_ok(format($$select money.request_withdrawal(gen_random_uuid(), %L, 1000, 'USD', 'IBAN DE00')$$, (select (test_support.chain(1))[1])),
  'MO403', null, 'and after the KYC check');
select is((select count(*)::int from public.withdrawals where user_id = (select c[1] from t)), 0, 'nothing was debited');

select test_support.verify_email((select c[1] from t));
select is(money.request_withdrawal(gen_random_uuid(), (select c[1] from t), 1000, 'USD', 'IBAN DE00') ->> 'status', 'pending',
  'once verified, the withdrawal goes through');

select * from finish();
rollback;
