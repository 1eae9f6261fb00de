begin;
select plan(4);

-- The largest terms the admin route accepts: price 10^12, 100% a day, 3650 days. Intermediate
-- products exceed bigint; the arithmetic must not.
create temp table t as select test_support.chain(2) as c, test_support.package(1000000000000, 10000, 3650) as p;
create temp table b as select test_support.buy((select c[2] from t), (select p from t)) as purchase_id;
select is((select total_yield_minor from public.contracts where purchase_id = (select purchase_id from b)),
  1000000000000::bigint * 3650, 'the contract total is exact');
select is(money.accrued_after_periods(3650000000000000, 87599, 3650), 3649958333333333::bigint,
  'accrual arithmetic does not overflow');
select is(money.refund_purchase('pi_test_' || (select purchase_id from b), 333333333333, 'USD', 'refund', 'evt_big'),
  'refunded', 'a partial refund of a huge purchase');
select is_empty('select * from test_support.ledger_violations()', 'the ledger balances');

select * from finish();
rollback;
