begin;
select plan(3);

-- A plan of its own (rolled back), with rates where rounding down, to nearest and up all differ, so the
-- test does not depend on the default plan's rates and cannot pass by a price that divides evenly.
delete from money.commission_rates;
insert into money.commission_rates (level, vip_level, rate_bps)
select 1, v, 333 from generate_series(1, 10) v
union all select 2, v, 777 from generate_series(2, 10) v;

create temp table t as select test_support.chain(3) as c, test_support.package(9999, 100, 30) as p;
select test_support.set_vip(u, 10) from t, unnest(t.c[1:2]) as u;
create temp table b as select test_support.buy((select c[3] from t), (select p from t)) as purchase_id;

-- Level 1: 9999 x 333 / 10000 = 332.97 → 332 (333 if rounded, 333 if rounded up).
-- Level 2: 9999 x 777 / 10000 = 776.92 → 776 (777 either other way).
select results_eq(
  $$select level::int, rate_bps, amount_minor from public.commissions
    where purchase_id = (select purchase_id from b) and level <= 2 order by level$$,
  $$values (1, 333, 332::bigint), (2, 777, 776::bigint)$$,
  'each commission is the rate of the price, rounded down');
select is((select pending_minor from public.user_accounts where user_id = (select c[2] from t)), 332::bigint,
  'the level 1 upline holds 332 pending');
select is((select sum(amount_minor)::bigint from public.commissions where purchase_id = (select purchase_id from b)),
  1108::bigint, 'levels without a rate pay nothing; the two shares sum to 1108');

select * from finish();
rollback;
