begin;
select plan(3);

create temp table t as select test_support.register() as u, gen_random_uuid() as w;
select test_support.fund((select u from t));
select test_support.approve_kyc((select u from t));
select money.request_withdrawal((select w from t), (select u from t), 8000, 'USD', 'IBAN DE00');
select money.decide_withdrawal((select w from t), test_support.admin(), 'approve');
select money.decide_withdrawal((select w from t), test_support.admin(), 'reject', null, 'Destination name mismatch');
select is((select available_minor || '/' || in_transit_minor from public.user_accounts where user_id = (select u from t)),
  '8000/0', 'a rejected withdrawal returns the money to available');
select throws_ok($$select money.decide_withdrawal((select w from t), test_support.admin(), 'mark_paid', 'x')$$,
  'MO409', null, 'a rejected withdrawal cannot be paid');
select is_empty('select * from projections.verify_rebuild()', 'rebuilding gives the same rows');

select * from finish();
rollback;
