begin;
select plan(2);

create temp table t as select test_support.chain(5) as c, test_support.package(12345, 150, 10) as p;
select test_support.set_vip(u, 10) from t, unnest(c[1:4]) as u;
create temp table b as select test_support.buy((select c[5] from t), (select p from t)) as purchase_id;
select money.refund_purchase('pi_test_' || (select purchase_id from b), 4000, 'usd', 'refund', 'evt_rb');
select money.release_due_commissions(now() + interval '1 year');

select is_empty('select * from projections.verify_rebuild()', 'rebuilding from events gives the live projections');
select is_empty('select * from test_support.ledger_violations()', 'and the rebuilt ledger balances');

select * from finish();
rollback;
