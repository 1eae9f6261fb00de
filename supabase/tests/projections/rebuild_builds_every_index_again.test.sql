begin;
select plan(3);

-- rebuild() drops the projection tables' non-unique indexes for the replay and builds them at the end.
create temp table t as select test_support.chain(3) as c, test_support.package(12345, 150, 10) as p;
create temp table b as select test_support.buy((select c[3] from t), (select p from t)) as purchase_id;

create temp table indexes_before as
select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def, i.indisvalid as valid
from pg_index i where i.indrelid in (select table_name from projections.tables);

select cmp_ok((select count(*) from indexes_before where def not like 'CREATE UNIQUE%'), '>', 10::bigint,
  'the projection tables have secondary indexes to drop and build');

select cmp_ok(projections.rebuild(), '>', 0::bigint, 'the rebuild replays the events');

select set_eq(
  $$select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), i.indisvalid
    from pg_index i where i.indrelid in (select table_name from projections.tables)$$,
  'select name, def, valid from indexes_before',
  'after the rebuild every projection index exists again, with the same name and definition, valid'
);

select * from finish();
rollback;
