begin;
select plan(6);

create temp table t as select test_support.chain(3) as c, test_support.package(10000, 100, 30) as p;
select test_support.buy((select c[3] from t), (select p from t));
refresh materialized view analytics.daily_sales;

select is_empty($$
  select table_name || '.' || column_name from information_schema.columns
  where table_schema = 'analytics'
    and (column_name ~* 'email|name|birth|country|destination|password|note|reason_text|storage')
    and column_name <> 'table_name'$$,
  'no analytics column holds personal data');

-- pgTAP lives in the extensions schema; the analyst needs to call it here, nothing more.
grant usage on schema extensions to analyst;
set local role analyst;
select ok((select count(*) from analytics.purchases) > 0, 'the analyst reads purchases');
select ok((select sum(balance_minor) from analytics.account_balances) = 0, 'and balances that sum to zero');
select ok((select count(*) from analytics.daily_sales) > 0, 'and the daily aggregate');
select throws_ok('select count(*) from public.users', '42501', null, 'but not the public tables');
select throws_ok('select count(*) from private.profiles', '42501', null, 'nor personal data');
reset role;

select * from finish();
rollback;
