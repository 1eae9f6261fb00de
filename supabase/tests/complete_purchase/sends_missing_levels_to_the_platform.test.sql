begin;
select plan(4);

create temp table t as select test_support.chain(4) as c, test_support.package(10000, 100, 30) as p;
select test_support.set_vip(u, 10) from t, unnest(c[1:3]) as u;
create temp table b as select test_support.buy((select c[4] from t), (select p from t)) as purchase_id;

select is((select count(*) from public.commissions where purchase_id = (select purchase_id from b) and reason = 'earned'),
  3::bigint, 'a chain of three uplines earns three levels');
select is((select count(*) from public.commissions where purchase_id = (select purchase_id from b)
           and beneficiary_id is null and reason = 'no_upline' and level between 4 and 10), 7::bigint,
  'levels 4-10 go to the platform, saying there was no upline');
select is((select sum(amount_minor) from public.ledger_entries where account = 'platform:commission_unassigned'
           and reference_id in (select commission_id from public.commissions where purchase_id = (select purchase_id from b))),
  (select sum(10000::bigint * rate_bps / 10000) from money.commission_rates where vip_level = 10 and level >= 4),
  'the platform account receives those shares');
select is_empty('select * from test_support.ledger_violations()', 'the ledger balances');

select * from finish();
rollback;
