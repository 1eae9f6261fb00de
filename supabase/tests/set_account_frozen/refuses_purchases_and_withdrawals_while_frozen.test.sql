begin;
select plan(7);

-- A customer with 8,000 available and an approved KYC case, frozen by an admin.
create temp table t as select test_support.kyc_user() as u, test_support.package(10000, 100, 30) as p;
select test_support.fund((select u from t));
select test_support.approve_kyc((select u from t));
select test_support.freeze((select u from t));

select throws_ok($$select money.start_checkout(gen_random_uuid(), (select u from t), (select p from t), 'cs_frozen_1')$$,
  'MO413', null, 'a frozen account starts no checkout');
select throws_ok($$select money.request_withdrawal(gen_random_uuid(), (select u from t), 2000, 'USD', 'IBAN DE00')$$,
  'MO413', null, 'nor a withdrawal');
select is((select available_minor || '/' || in_transit_minor from public.user_accounts where user_id = (select u from t)),
  '8000/0', 'and nothing moved');
select is((select count(*)::int from public.purchases where user_id = (select u from t)), 0, 'no purchase was recorded');

select test_support.unfreeze((select u from t));
select lives_ok($$select money.start_checkout(gen_random_uuid(), (select u from t), (select p from t), 'cs_frozen_2')$$,
  'unfrozen, it starts checkouts again');
select lives_ok($$select money.request_withdrawal(gen_random_uuid(), (select u from t), 2000, 'USD', 'IBAN DE00')$$,
  'and withdrawals');
select is_empty('select * from test_support.ledger_violations()', 'the ledger balances');

select * from finish();
rollback;
