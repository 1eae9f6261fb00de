begin;
select plan(5);

-- Other tests' commissions may be due too (the database is shared): assert on ours only.
create temp table t as select test_support.chain(2) as c, test_support.package(10000, 100, 30) as p;
select test_support.set_vip((select c[1] from t), 10); -- level 1 at VIP 10: 15.2% of 10,000 = 1,520
create temp table b as select test_support.buy((select c[2] from t), (select p from t)) as purchase_id;
create temp table due as select commission_id, releases_at from public.commissions
  where purchase_id = (select purchase_id from b) and level = 1;

select money.release_due_commissions((select releases_at from due) - interval '1 second', 50000);
select is((select status from public.commissions where commission_id = (select commission_id from due)), 'pending',
  'nothing before the hold ends');
select money.release_due_commissions((select releases_at from due), 50000);
select is((select status from public.commissions where commission_id = (select commission_id from due)), 'released',
  'released when it ends');
select money.release_due_commissions((select releases_at from due) + interval '1 day', 50000);
select is((select count(*) from event_store.events where type = 'CommissionReleased'
           and data ->> 'commissionId' = (select commission_id::text from due)), 1::bigint,
  'a second run releases it no more: one CommissionReleased');
select is((select pending_minor || '/' || available_minor from public.user_accounts where user_id = (select c[1] from t)),
  '0/1520', 'pending moved to available once');
select is_empty('select * from test_support.ledger_violations()', 'the ledger balances');

select * from finish();
rollback;
