begin;
select plan(5);

create temp table t as select test_support.chain(1) as c, test_support.package(10000, 100, 30) as p, gen_random_uuid() as purchase_id;
select money.start_checkout((select purchase_id from t), (select c[1] from t), (select p from t), 'cs_' || gen_random_uuid());
create temp table cmd as select jsonb_build_object('kind', 'payment_succeeded', 'purchaseId', purchase_id,
  'paymentIntentId', 'pi_' || purchase_id, 'amountMinor', 10000, 'currency', 'usd') as c from t;

-- A purchase that rolls back (here: to a savepoint) leaves no mail behind.
savepoint before_purchase;
select money.handle_stripe_event('evt_rb_' || (select purchase_id from t), 'checkout.session.completed', (select c from cmd));
select is((select count(*)::int from notify.outbox where user_id = (select c[1] from t)), 1, 'the purchase queued its receipt');
rollback to savepoint before_purchase;
select is((select count(*)::int from notify.outbox where user_id = (select c[1] from t)), 0, 'a rolled-back purchase queues nothing');

-- The same webhook delivered five times (and the async twin once): one receipt.
select money.handle_stripe_event('evt_a_' || (select purchase_id from t), 'checkout.session.completed', (select c from cmd))
from generate_series(1, 5);
select money.handle_stripe_event('evt_b_' || (select purchase_id from t), 'checkout.session.async_payment_succeeded', (select c from cmd));
select is((select count(*)::int from notify.outbox where user_id = (select c[1] from t) and kind = 'purchase_receipt'), 1,
  'five deliveries queue one receipt');
select is((select dedupe_key from notify.outbox where user_id = (select c[1] from t)),
  (select position || ':purchase_receipt' from event_store.events where stream_id = 'purchase-' || (select purchase_id from t) and type = 'Purchased'),
  'the receipt is keyed by the Purchased event''s position and its kind');
select ok((select variables ?& array['packageName', 'amount', 'purchaseId', 'startsAt', 'endsAt']
           and variables->>'amount' = '100.00 USD' from notify.outbox where user_id = (select c[1] from t)),
  'the receipt carries the amount, package and contract dates');

select * from finish();
rollback;
