begin;
select plan(4);

create temp table t as select test_support.chain(2) as c, test_support.package(10000, 100, 30) as p;
create temp table b as select test_support.buy((select c[2] from t), (select p from t)) as purchase_id;

select is(money.refund_purchase('pi_test_' || (select purchase_id from b), null, 'usd', 'refund', 'evt_null'), 'invalid',
  'a refund without an amount changes nothing (never "refund everything")');
select is(money.refund_purchase('pi_test_' || (select purchase_id from b), 5000, 'eur', 'refund', 'evt_eur'), 'currency_mismatch',
  'a refund in another currency changes nothing');
select is((select refunded_minor from public.purchases where purchase_id = (select purchase_id from b)), 0::bigint,
  'the purchase is untouched');
create temp table m as select gen_random_uuid() as purchase_id;
select money.start_checkout((select purchase_id from m), (select c[2] from t), (select p from t), 'cs_null_' || gen_random_uuid());
select is(money.complete_purchase((select purchase_id from m), 'pi_null', null, 'USD'), 'amount_mismatch',
  'a payment without an amount does not complete a purchase');

select * from finish();
rollback;
