begin;
select plan(5);

-- Twelve users, each VIP 10, the buyer the deepest: exactly the ten nearest uplines earn.
create temp table t as select test_support.chain(12) as c, test_support.package(100000, 100, 30) as p;
select test_support.set_vip(u, 10) from t, unnest(c[1:11]) as u;
create temp table b as select test_support.buy((select c[12] from t), (select p from t)) as purchase_id;

select is((select count(*) from public.commissions where purchase_id = (select purchase_id from b)), 10::bigint,
  'ten commission levels');
select results_eq(
  $$select m.level::int, m.beneficiary_id, m.rate_bps, m.amount_minor, m.reason
    from public.commissions m where purchase_id = (select purchase_id from b) order by level$$,
  $$select l, (select c[12 - l] from t), r.rate_bps, 100000::bigint * r.rate_bps / 10000, 'earned'
    from generate_series(1, 10) l join money.commission_rates r on r.level = l and r.vip_level = 10 order by l$$,
  'level n pays the n-th upline at the plan''s rate');
select is((select count(*) from public.commissions where purchase_id = (select purchase_id from b)
           and beneficiary_id = (select c[1] from t)), 0::bigint, 'the 11th upline earns nothing');
select is((select pending_minor from public.user_accounts where user_id = (select c[11] from t)), 8000::bigint,
  'the direct referrer''s commission (8%) is pending');
select is_empty('select * from test_support.ledger_violations()', 'the ledger balances');

select * from finish();
rollback;
