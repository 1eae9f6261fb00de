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
  -- The default plan at VIP 10: base(L) + base(L)/10 x (10 - L) bps; on 100,000 that is rate x 10.
  $$select l::int, (select c[12 - l] from t), r, r * 10::bigint, 'earned'
    from unnest(array[1520, 720, 510, 320, 150, 140, 65, 60, 55, 50]) with ordinality as x(r, l) order by l$$,
  'level n pays the n-th upline at the VIP 10 rate of the default plan');
select is((select count(*) from public.commissions where purchase_id = (select purchase_id from b)
           and beneficiary_id = (select c[1] from t)), 0::bigint, 'the 11th upline earns nothing');
select is((select pending_minor from public.user_accounts where user_id = (select c[11] from t)), 15200::bigint,
  'the direct referrer''s commission (15.2% at VIP 10) is pending');
select is_empty('select * from test_support.ledger_violations()', 'the ledger balances');

select * from finish();
rollback;
