begin;
select plan(3);

-- A plan of its own (rolled back): level 1 pays 333 bps, so 9999 earns floor(332.97) = 332.
delete from money.commission_rates;
insert into money.commission_rates (level, vip_level, rate_bps) select 1, v, 333 from generate_series(1, 10) v;

create temp table t as select test_support.chain(2) as c, test_support.package(9999, 100, 30) as p;
select test_support.set_vip((select c[1] from t), 1);
create temp table b as select test_support.buy((select c[2] from t), (select p from t)) as purchase_id;
select is((select amount_minor from public.commissions where purchase_id = (select purchase_id from b) and level = 1),
  332::bigint, 'the commission');

-- 8000 of 9999 refunded: 332 x 8000 / 9999 = 265.63 → 265 reversed (266 if rounded or rounded up).
select money.refund_purchase('pi_test_' || (select purchase_id from b), 8000, 'usd', 'refund', 'evt_round_1');
select is((select reversed_minor from public.commissions where purchase_id = (select purchase_id from b) and level = 1),
  265::bigint, 'a partial refund reverses the commission in proportion, rounded down');
-- 9000 in all: 298.83 → 298 reversed in all, 33 more.
select money.refund_purchase('pi_test_' || (select purchase_id from b), 9000, 'usd', 'refund', 'evt_round_2');
select is((select pending_minor from public.user_accounts where user_id = (select c[1] from t)), 332::bigint - 298,
  'a second refund reverses up to its cumulative share, rounded down');

select * from finish();
rollback;
