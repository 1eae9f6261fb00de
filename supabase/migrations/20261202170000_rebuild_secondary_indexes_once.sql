-- Rebuild (issue 12): build the projections' secondary indexes once at the end instead of row by row.
-- Profile of rebuild() on the rebuild scenario's data (185,047 events; pg_stat_statements, track = all):
-- the set-based inserts of 120,000 commissions and 229,000 ledger lines took 16% and 14% of the time,
-- each row updating five and three indexes with keys in no useful order (random uuids, recorded_at).
-- Now rebuild() drops every non-unique index of the projection tables (none backs a constraint; the
-- unique ones stay: they enforce what replay must not break and serve the handlers' key lookups), replays,
-- and creates the same indexes again from their saved definitions with a larger maintenance_work_mem:
-- a sorted bulk build each. Same data, same index names and definitions afterwards; in a transaction that
-- rolls back (verify_rebuild) the drops roll back too. It blocks no one more than before: TRUNCATE already
-- takes an ACCESS EXCLUSIVE lock on every projection table until commit.
create or replace function projections.rebuild() returns bigint
language plpgsql as $$
declare
  v_tables text;
  v_set_based text[] := projections.set_based_types();
  -- Shorter runs cost less through the live dispatch; tests set 1 to send every run set-based.
  v_min_events int := coalesce(nullif(current_setting('projections.set_based_min_events', true), '')::int, 64);
  v_after bigint := 0;
  v_window_to bigint;
  n bigint := 0;
  r record;
  v_jit text;
  v_work_mem text;
  v_maintenance_work_mem text;
  v_indexes text[];
  v_index text;
begin
  select string_agg(table_name::text, ', ' order by table_name::text) into v_tables from projections.tables;
  if v_tables is null then return 0; end if;
  -- Writers and readers wait while we rebuild (TRUNCATE's lock); they see the old rows or the new ones.
  execute format('lock table %s in exclusive mode', v_tables);
  -- The secondary indexes, saved and dropped before the truncate; built again after the replay.
  select coalesce(array_agg(pg_get_indexdef(i.indexrelid) order by i.indexrelid), '{}'),
         string_agg(i.indexrelid::regclass::text, ', ')
  into v_indexes, v_index
  from pg_index i
  where i.indrelid in (select t.table_name from projections.tables t)
    and not i.indisunique
    and not exists (select from pg_constraint c where c.conindid = i.indexrelid);
  if v_index is not null then execute 'drop index ' || v_index; end if;
  execute format('truncate %s', v_tables);
  -- JIT compiles each big statement of a range anew (≈0.1 s each, more than most of them take), and a
  -- range's aggregates (65,000 (ancestor, level) pairs for 12,000 signups) spill past the default work_mem.
  v_jit := current_setting('jit');
  v_work_mem := current_setting('work_mem');
  v_maintenance_work_mem := current_setting('maintenance_work_mem');
  perform set_config('jit', 'off', true);
  perform set_config('work_mem', '64MB', true);
  loop
    v_window_to := null;
    -- A window of at most 20,000 events (bounded memory), as islands of set-based and other events.
    for r in
      with w as (
        select e.position,
               e.type = any(v_set_based) as set_based
        from event_store.events e where e.position > v_after order by e.position limit 20000
      ), islands as (
        select set_based, min(position) as from_position, max(position) as to_position, count(*) as events
        from (select w.*, row_number() over (order by position) - row_number() over (partition by set_based order by position) as island
              from w) x
        group by set_based, island
      ), ranges as (
        select from_position, to_position, events, set_based and events >= v_min_events as set_based,
               row_number() over (order by from_position)
               - row_number() over (partition by set_based and events >= v_min_events order by from_position) as island
        from islands
      )
      select set_based, min(from_position) as from_position, max(to_position) as to_position, sum(events)::bigint as events
      from ranges group by set_based, island order by 2
    loop
      if r.set_based then
        perform projections.apply_set_based(r.from_position, r.to_position);
      else
        perform projections.apply_all(array(
          select e from event_store.events e where e.position between r.from_position and r.to_position order by e.position));
      end if;
      n := n + r.events;
      v_window_to := r.to_position;
    end loop;
    exit when v_window_to is null;
    v_after := v_window_to;
  end loop;
  -- Each index is one sort of its table; the largest (ledger lines by recorded_at) is ≈15 MB per 230,000 lines.
  perform set_config('maintenance_work_mem', '256MB', true);
  foreach v_index in array v_indexes loop
    execute v_index;
  end loop;
  perform set_config('jit', v_jit, true);
  perform set_config('work_mem', v_work_mem, true);
  perform set_config('maintenance_work_mem', v_maintenance_work_mem, true);
  return n;
end;
$$;
comment on function projections.rebuild() is 'Empty every projection table and replay all events in position order (runs of set-based types a statement per projection; secondary indexes dropped and built once at the end). Returns the number of events replayed.';
