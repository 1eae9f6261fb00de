begin;
select plan(5);

create temp table t as select test_support.chain(2) as c, test_support.package(10000, 100, 30) as p;
select test_support.set_vip((select c[1] from t), 10);
create temp table b as select test_support.buy((select c[2] from t), (select p from t)) as purchase_id;

-- The dispute's "closed: won" arrives before its "created": the late "created" takes nothing.
select is(money.win_dispute('pi_test_' || (select purchase_id from b), 'dp_early', 'usd', 'evt_won_first'), 'no_change',
  'a win for a purchase not (yet) disputed changes nothing');
select is(money.refund_purchase('pi_test_' || (select purchase_id from b), 0, 'usd', 'dispute', 'evt_created_late',
  '{}'::jsonb, 'dp_early'), 'no_change', 'and the late dispute.created is a no-op');
select is((select status || '/' || refunded_minor from public.purchases where purchase_id = (select purchase_id from b)),
  'paid/0', 'the purchase is untouched');

-- Both before the purchase itself: the deferred dispute is dropped, the purchase lands clean.
select money.start_checkout('00000000-0000-4000-8000-0000000000d1', (select c[2] from t), (select p from t), 'cs_test_d1');
select money.refund_purchase('pi_d1', 0, 'usd', 'dispute', 'evt_d1_created', '{}'::jsonb, 'dp_d1');
select is(money.win_dispute('pi_d1', 'dp_d1', 'usd', 'evt_d1_won'), 'deferred', 'a win before its purchase is kept');
select money.complete_purchase('00000000-0000-4000-8000-0000000000d1', 'pi_d1', 10000, 'usd');
select is((select status from public.purchases where purchase_id = '00000000-0000-4000-8000-0000000000d1'), 'paid',
  'and the purchase completes undisputed');

select * from finish();
rollback;
