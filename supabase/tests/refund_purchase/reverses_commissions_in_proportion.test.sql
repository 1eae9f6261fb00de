begin;
select plan(5);

create temp table t as select test_support.chain(3) as c, test_support.package(9999, 100, 30) as p;
select test_support.set_vip(u, 10) from t, unnest(c[1:2]) as u;
create temp table b as select test_support.buy((select c[3] from t), (select p from t)) as purchase_id;
-- Level 1 at VIP 10 (15.2%): floor(9999 x 1520 / 10000) = 1519; a third: floor(1519 x 3333 / 9999) = 506.
select is(money.refund_purchase('pi_test_' || (select purchase_id from b), 3333, 'usd', 'refund', 'evt_r1'), 'refunded', 'refunded');
select is((select reversed_minor from public.commissions where purchase_id = (select purchase_id from b) and level = 1),
  506::bigint, 'a third of the commission is reversed, rounded down');
select is(money.refund_purchase('pi_test_' || (select purchase_id from b), 3333, 'usd', 'refund', 'evt_r1'), 'no_change',
  'the same cumulative amount again changes nothing');
select money.refund_purchase('pi_test_' || (select purchase_id from b), 9999, 'usd', 'refund', 'evt_r2');
select is((select array_agg(amount_minor - reversed_minor) from public.commissions where purchase_id = (select purchase_id from b)),
  array_fill(0::bigint, array[10]), 'a full refund reverses every commission exactly');
select is((select status || '/' || refunded_minor from public.purchases where purchase_id = (select purchase_id from b)),
  'refunded/9999', 'the purchase is refunded in full');

select * from finish();
rollback;
