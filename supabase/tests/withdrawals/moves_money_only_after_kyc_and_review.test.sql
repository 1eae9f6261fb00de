begin;
select plan(11);

-- The customer is an admin too, so that deciding their own withdrawal is refused for that reason.
create temp table t as select test_support.kyc_user(true) as u, gen_random_uuid() as w1, gen_random_uuid() as w2;
select test_support.fund((select u from t));   -- 8% of 100000 = 8000 available
select throws_ok($$select money.request_withdrawal((select w1 from t), (select u from t), 5000, 'USD', 'IBAN DE00')$$,
  'MO403', null, 'no approved KYC: refused');
create temp table k as select test_support.approve_kyc((select u from t)) as case_id;
select throws_ok($$select money.request_withdrawal((select w1 from t), (select u from t), 9000, 'USD', 'IBAN DE00')$$,
  'MO402', null, 'more than the available balance: refused');
select throws_ok($$select money.request_withdrawal((select w1 from t), (select u from t), 10, 'USD', 'IBAN DE00')$$,
  'MO422', null, 'below the minimum: refused');
select lives_ok($$select money.request_withdrawal((select w1 from t), (select u from t), 5000, 'usd', 'IBAN DE00')$$,
  'within the balance, with KYC: accepted');
select is((select available_minor || '/' || in_transit_minor from public.user_accounts where user_id = (select u from t)),
  '3000/5000', 'the amount moved at once from available to in transit');
select throws_ok($$select money.decide_withdrawal((select w1 from t), (select u from t), 'approve')$$,
  'MO411', null, 'nobody decides their own withdrawal');
select throws_ok($$select money.decide_withdrawal((select w1 from t), test_support.admin(), 'mark_paid', 'ref-1')$$,
  'MO409', null, 'a pending withdrawal cannot be marked paid');
select test_support.revoke_kyc((select case_id from k));
select throws_ok($$select money.decide_withdrawal((select w1 from t), test_support.admin(), 'approve')$$,
  'MO410', null, 'a revoked KYC holds the pending withdrawal');
select throws_ok($$select money.request_withdrawal((select w2 from t), (select u from t), 1000, 'USD', 'IBAN DE00')$$,
  'MO403', null, 'and blocks the next one');
select test_support.approve_kyc((select u from t));
select money.decide_withdrawal((select w1 from t), test_support.admin(), 'approve');
select money.decide_withdrawal((select w1 from t), test_support.admin(), 'mark_paid', 'payout-42');
select is((select in_transit_minor || '/' || withdrawn_minor from public.user_accounts where user_id = (select u from t)),
  '0/5000', 'paid: out of transit, counted as withdrawn');
select is_empty('select * from test_support.ledger_violations()', 'the ledger balances');

select * from finish();
rollback;
