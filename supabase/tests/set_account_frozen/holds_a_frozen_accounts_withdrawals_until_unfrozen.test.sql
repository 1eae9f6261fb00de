begin;
select plan(8);

-- 8,000 available; two withdrawals: w1 pending (3,000), w2 approved (2,000); then the account is frozen.
create temp table t as select test_support.kyc_user() as u, gen_random_uuid() as w1, gen_random_uuid() as w2;
select test_support.fund((select u from t));
select test_support.approve_kyc((select u from t));
select money.request_withdrawal((select w1 from t), (select u from t), 3000, 'USD', 'IBAN DE00');
select money.request_withdrawal((select w2 from t), (select u from t), 2000, 'USD', 'IBAN DE00');
select money.decide_withdrawal((select w2 from t), test_support.admin(), 'approve');
select test_support.freeze((select u from t));

select throws_ok($$select money.decide_withdrawal((select w1 from t), test_support.admin(), 'approve')$$,
  'MO414', null, 'a frozen account''s pending withdrawal cannot be approved');
select throws_ok($$select money.decide_withdrawal((select w2 from t), test_support.admin(), 'mark_paid', 'ref-1')$$,
  'MO414', null, 'nor an approved one paid');
select lives_ok($$select money.decide_withdrawal((select w1 from t), test_support.admin(), 'reject')$$,
  'rejecting works');
select is((select available_minor || '/' || held_minor || '/' || in_transit_minor from public.user_accounts
           where user_id = (select u from t)), '3000/3000/2000',
  'the rejected amount comes back held, not available');

select is((test_support.unfreeze((select u from t)) ->> 'heldMinor')::int, 0, 'unfreezing empties held');
select is((select available_minor || '/' || held_minor from public.user_accounts where user_id = (select u from t)),
  '6000/0', 'into available');
select lives_ok($$select money.decide_withdrawal((select w2 from t), test_support.admin(), 'mark_paid', 'ref-1')$$,
  'and the held withdrawal can be paid');
select is_empty('select * from test_support.ledger_violations()', 'the ledger balances');

select * from finish();
rollback;
