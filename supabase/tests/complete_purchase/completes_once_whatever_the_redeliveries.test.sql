begin;
select plan(5);

create temp table t as select test_support.chain(2) as c, test_support.package(10000, 100, 30) as p;
create temp table b as select test_support.buy((select c[2] from t), (select p from t)) as purchase_id;

select is(money.complete_purchase((select purchase_id from b), 'pi_test_' || (select purchase_id from b), 10000, 'USD'),
  'duplicate', 'completing a paid purchase again is a duplicate');
select is(money.complete_purchase(gen_random_uuid(), 'pi_unknown', 10000, 'USD'), 'unknown_purchase',
  'an unknown purchase changes nothing');
select is((select count(*) from event_store.events where stream_id = 'purchase-' || (select purchase_id from b)
           and type = 'Purchased'), 1::bigint, 'one Purchased event');
select is((select count(*) from public.contracts where purchase_id = (select purchase_id from b)), 1::bigint, 'one contract');

create temp table m as select gen_random_uuid() as purchase_id;
select money.start_checkout((select purchase_id from m), (select c[2] from t), (select p from t), 'cs_mismatch_' || gen_random_uuid());
select is(money.complete_purchase((select purchase_id from m), 'pi_mismatch', 9999, 'USD'), 'amount_mismatch',
  'a payment for another amount does not complete the purchase');

select * from finish();
rollback;
