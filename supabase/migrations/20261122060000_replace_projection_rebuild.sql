-- Empty every projection table in one TRUNCATE, so foreign keys between projections never block it.
create or replace function projections.rebuild() returns bigint
language plpgsql as $$
declare
  v_tables text;
  e event_store.events;
  n bigint := 0;
begin
  select string_agg(table_name::text, ', ' order by table_name::text) into v_tables from projections.tables;
  if v_tables is null then return 0; end if;
  -- Writers wait while we rebuild; readers keep seeing the old rows until we commit.
  execute format('lock table %s in exclusive mode', v_tables);
  execute format('truncate %s', v_tables);
  for e in select * from event_store.events order by position loop
    perform projections.apply(e);
    n := n + 1;
  end loop;
  return n;
end;
$$;
