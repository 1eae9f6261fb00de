begin;
select plan(5);

create temp table t as select test_support.chain(2) as c, test_support.package(10000, 100, 30) as p;
select test_support.set_vip((select c[1] from t), 10);
create temp table b as select test_support.buy((select c[2] from t), (select p from t)) as purchase_id;
create temp table due as select releases_at from public.commissions where purchase_id = (select purchase_id from b) and level = 1;

select is(money.release_due_commissions((select releases_at from due) - interval '1 second'), 0, 'nothing before the hold ends');
select cmp_ok(money.release_due_commissions((select releases_at from due)), '>=', 1, 'released when it ends');
select is(money.release_due_commissions((select releases_at from due) + interval '1 day'), 0, 'a second run releases nothing');
select is((select pending_minor || '/' || available_minor from public.user_accounts where user_id = (select c[1] from t)),
  '0/800', 'pending moved to available once');
select is((select count(*) from event_store.events where type = 'CommissionReleased'
           and data ->> 'commissionId' in (select commission_id::text from public.commissions where purchase_id = (select purchase_id from b))),
  1::bigint, 'one CommissionReleased');

select * from finish();
rollback;
