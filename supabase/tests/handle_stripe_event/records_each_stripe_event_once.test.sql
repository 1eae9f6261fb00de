begin;
select plan(4);

create temp table t as select test_support.chain(1) as c, test_support.package(10000, 100, 30) as p, gen_random_uuid() as purchase_id;
select money.start_checkout((select purchase_id from t), (select c[1] from t), (select p from t), 'cs_' || gen_random_uuid());
create temp table cmd as select jsonb_build_object('kind', 'payment_succeeded', 'purchaseId', purchase_id,
  'paymentIntentId', 'pi_' || purchase_id, 'amountMinor', 10000, 'currency', 'usd') as c from t;

select is(money.handle_stripe_event('evt_a_' || (select purchase_id from t), 'checkout.session.completed', (select c from cmd)) ->> 'outcome',
  'purchased', 'the first delivery purchases');
select is(money.handle_stripe_event('evt_a_' || (select purchase_id from t), 'checkout.session.completed', (select c from cmd)),
  '{"outcome": "purchased", "duplicate": true}'::jsonb, 'a redelivery is a duplicate with the first outcome');
select is(money.handle_stripe_event('evt_b_' || (select purchase_id from t), 'checkout.session.async_payment_succeeded', (select c from cmd)) ->> 'outcome',
  'duplicate', 'another event for the same session does not purchase twice');
select is(money.handle_stripe_event('evt_c_' || (select purchase_id from t), 'checkout.session.completed',
  '{"kind":"payment_succeeded","purchaseId":"not-a-uuid","amountMinor":1,"currency":"usd"}') ->> 'outcome',
  'unknown_purchase', 'a purchase id that is not ours is recorded, not an error');

select * from finish();
rollback;
