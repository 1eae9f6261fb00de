begin;
select plan(4);

select is((select command from cron.job where jobname = 'refresh-analytics'), 'select private.refresh_analytics()',
  'pg_cron runs the one refresh of every aggregate');
-- REFRESH ... CONCURRENTLY needs a unique index on plain columns, without a predicate.
select is_empty($$
  select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'analytics' and c.relkind = 'm'
    and not exists (select from pg_index i where i.indrelid = c.oid and i.indisunique and i.indpred is null
                    and i.indexprs is null)$$,
  'every materialized view in analytics has a unique index for a concurrent refresh');
select is_empty($$
  select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'analytics' and c.relkind = 'm' and obj_description(c.oid, 'pg_class') is null$$,
  'every materialized view in analytics says what it is (comment on)');
select lives_ok('select private.refresh_analytics()', 'the refresh runs');
select * from finish();
rollback;
