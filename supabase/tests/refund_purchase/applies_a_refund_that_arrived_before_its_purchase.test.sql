begin;
select plan(4);

create temp table t as select test_support.chain(2) as c, test_support.package(10000, 100, 30) as p, gen_random_uuid() as purchase_id;
select money.start_checkout((select purchase_id from t), (select c[2] from t), (select p from t), 'cs_early_' || gen_random_uuid());
select is(money.refund_purchase('pi_early_' || (select purchase_id from t), 10000, 'usd', 'refund', 'evt_early'), 'deferred',
  'a refund for an unknown payment is kept');
select is(money.complete_purchase((select purchase_id from t), 'pi_early_' || (select purchase_id from t), 10000, 'USD'),
  'purchased', 'the purchase lands');
select is((select status from public.purchases where purchase_id = (select purchase_id from t)), 'refunded',
  'and the kept refund is applied');
select is((select status from public.contracts where purchase_id = (select purchase_id from t)), 'refunded',
  'the contract is stopped');

select * from finish();
rollback;
