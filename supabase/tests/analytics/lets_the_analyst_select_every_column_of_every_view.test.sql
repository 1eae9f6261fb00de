begin;
-- One test per view and materialized view in analytics, found in the catalog (a new view is covered
-- without touching this file), plus the accrued amount the contracts view computes.
select plan(1 + (select count(*)::int from pg_class c join pg_namespace n on n.oid = c.relnamespace
                 where n.nspname = 'analytics' and c.relkind in ('v', 'm')));

-- A purchase, so every contract-derived column is computed at least once.
create temp table t as select test_support.chain(3) as c, test_support.package(10000, 100, 30) as p;
select test_support.buy((select c[3] from t), (select p from t));
refresh materialized view analytics.daily_sales;

grant usage on schema extensions to analyst; -- pgTAP
set local role analyst;
select lives_ok(format('select * from analytics.%I', c.relname), format('the analyst selects every column of analytics.%I', c.relname))
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'analytics' and c.relkind in ('v', 'm')
order by c.relname;
select ok((select count(*) from analytics.contracts where accrued_minor is not null) > 0,
  'contracts carry their accrued amount');
reset role;

select * from finish();
rollback;
