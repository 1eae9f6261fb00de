-- Projections: every table people read is derived from events by handlers registered here, run in the
-- appending transaction (a statement-level trigger with a transition table) and again, in position
-- order, by projections.rebuild(). One mechanism for live and rebuilt state is what makes them equal.
--
-- Rule for commands that touch shared rows (balances, counters): take their row locks BEFORE
-- appending, so that for any two transactions touching the same row, position order = apply order,
-- and a replay in position order reproduces every "balance before/after" exactly.

create schema if not exists projections;
comment on schema projections is 'How events become read models: handler registry, live dispatch, rebuild.';
revoke all on schema projections from public;

create table projections.handlers (
  event_type text not null,
  handler regprocedure not null,
  priority int not null default 100,
  batch boolean not null default false,
  constraint handlers_pkey primary key (event_type, handler)
);
comment on table projections.handlers is 'Which SQL function projects which event type. A handler takes one event_store.events row; a batch handler takes event_store.events[] (consecutive events of its type, in position order) and must leave exactly the state handling them one by one would.';

create table projections.tables (
  table_name regclass primary key
);
comment on table projections.tables is 'Tables that are pure projections: rebuild() empties them and replays every event.';

-- Register a projection table (rebuild() empties and replays it) and close it to Supabase's API roles:
-- RLS on, and the grants Supabase gives new public tables taken back. With p_owner_column, the
-- signed-in user a row belongs to may read it (one select policy), and nobody else.
create function projections.register_table(p_table regclass, p_owner_column text default null) returns void
language plpgsql as $$
declare
  v_name text := (select relname from pg_class where oid = p_table);
begin
  insert into projections.tables (table_name) values (p_table);
  execute format('alter table %s enable row level security', p_table);
  execute format('revoke all on table %s from public, anon, authenticated', p_table);
  execute format('grant select on table %s to service_role', p_table);
  if p_owner_column is null then return; end if;
  -- (select auth.uid()) is evaluated once per statement, not per row (Supabase's RLS advice).
  execute format('create policy %I on %s for select to authenticated using (%I = (select auth.uid()))',
    v_name || '_select_own', p_table, p_owner_column);
  execute format('grant select on table %s to authenticated', p_table);
end;
$$;

-- projections.apply(e) runs every handler registered for e.type, and projections.apply_run(events)
-- a run of consecutive events of one type (a batch handler takes the whole run at once, so ten
-- commissions are three statements, not thirty). Both are generated from the registry (CASEs with
-- direct calls, whose plans PL/pgSQL caches) and regenerated whenever it changes: a lookup and an
-- EXECUTE per event cost more than most handlers.
create function projections.compile_dispatch() returns void
language plpgsql as $$
declare
  v_each text := '';
  v_runs text := '';
  r record;
begin
  for r in
    select event_type,
           string_agg(format(case when batch then 'perform %s(array[e]);' else 'perform %s(e);' end, handler::regproc::text),
                      ' ' order by priority, handler::text) as each_calls,
           string_agg(format('perform %s(p_events);', handler::regproc::text), ' ' order by priority, handler::text) as run_calls,
           bool_and(batch) as all_batch
    from projections.handlers group by event_type order by event_type
  loop
    v_each := v_each || format(' when %L then %s', r.event_type, r.each_calls);
    if r.all_batch then v_runs := v_runs || format(' when %L then %s', r.event_type, r.run_calls); end if;
  end loop;
  execute format($f$
    create or replace function projections.apply(e event_store.events) returns void
    language plpgsql as $b$
    begin
      %s
    end;
    $b$
  $f$, case when v_each = '' then 'null;' else format('case e.type %s else null; end case;', v_each) end);
  execute format($f$
    create or replace function projections.apply_run(p_events event_store.events[]) returns void
    language plpgsql as $b$
    declare
      e event_store.events;
    begin
      %s
    end;
    $b$
  $f$, replace(case when v_runs = '' then '<each>' else format('case p_events[1].type %s else <each> end case;', v_runs) end,
               '<each>', 'foreach e in array p_events loop perform projections.apply(e); end loop;'));
end;
$$;

create function projections.on_handlers_changed() returns trigger
language plpgsql as $$
begin
  perform projections.compile_dispatch();
  return null;
end;
$$;

create trigger handlers_compile_dispatch after insert or update or delete or truncate on projections.handlers
  for each statement execute function projections.on_handlers_changed();

select projections.compile_dispatch();

-- Events in position order, split into runs of one type (at most 100 long), each run to
-- projections.apply_run. One pass with foreach: indexing into an array of rows is not constant-time.
create function projections.apply_all(p_events event_store.events[]) returns void
language plpgsql as $$
declare
  e event_store.events;
  v_run event_store.events[] := '{}';
begin
  foreach e in array coalesce(p_events, '{}') loop
    if cardinality(v_run) > 0 and (e.type <> v_run[1].type or cardinality(v_run) >= 100) then
      perform projections.apply_run(v_run);
      v_run := '{}';
    end if;
    v_run := v_run || e;
  end loop;
  if cardinality(v_run) > 0 then perform projections.apply_run(v_run); end if;
end;
$$;

create function projections.on_events_inserted() returns trigger
language plpgsql as $$
begin
  -- Transition-table rows are records: cast them to the events row type.
  perform projections.apply_all(array(select i::event_store.events from inserted i order by i.position));
  return null;
end;
$$;

create trigger events_project after insert on event_store.events
  referencing new table as inserted
  for each statement execute function projections.on_events_inserted();

-- Rebuild every registered projection from the events, from zero, in the caller's transaction
-- (projections.verify_rebuild() uses that to compare and roll back). One TRUNCATE empties every table,
-- so foreign keys between projections never block it.
create function projections.rebuild() returns bigint
language plpgsql as $$
declare
  v_tables text;
  v_chunk event_store.events[];
  v_after bigint := 0;
  n bigint := 0;
begin
  select string_agg(table_name::text, ', ' order by table_name::text) into v_tables from projections.tables;
  if v_tables is null then return 0; end if;
  -- Writers wait while we rebuild; readers keep seeing the old rows until we commit.
  execute format('lock table %s in exclusive mode', v_tables);
  execute format('truncate %s', v_tables);
  -- In position order, 10,000 events at a time (bounded memory), through the live dispatch.
  loop
    select array_agg(e order by e.position) into v_chunk
    from (select * from event_store.events where position > v_after order by position limit 10000) e;
    exit when v_chunk is null;
    perform projections.apply_all(v_chunk);
    n := n + cardinality(v_chunk);
    v_after := v_chunk[cardinality(v_chunk)].position;
  end loop;
  return n;
end;
$$;
comment on function projections.rebuild() is 'Empty every projection table and replay all events in position order. Returns the number of events replayed.';

-- A digest of every projection table's rows, in primary-key order, for comparing live and rebuilt state.
create function projections.digest() returns table (table_name text, row_count bigint, md5 text)
language plpgsql as $$
declare
  t record;
  key_columns text;
begin
  for t in select p.table_name from projections.tables p order by p.table_name::text loop
    select string_agg(quote_ident(a.attname), ', ' order by array_position(i.indkey::int2[], a.attnum))
      into key_columns
    from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
    where i.indrelid = t.table_name and i.indisprimary;
    return query execute format(
      'select %L::text, count(*), coalesce(md5(string_agg(r::text, %L order by %s)), md5(%L)) from %s r',
      t.table_name::text, E'\n', coalesce(key_columns, 'r::text'), '', t.table_name);
  end loop;
end;
$$;

-- Rebuild inside a subtransaction and report every table whose rebuilt rows differ from the live ones.
create function projections.verify_rebuild() returns table (table_name text, live_md5 text, rebuilt_md5 text)
language plpgsql as $$
begin
  drop table if exists pg_temp.live_digest;
  create temporary table live_digest on commit drop as select * from projections.digest();
  perform projections.rebuild();
  return query
    select coalesce(l.table_name, r.table_name), l.md5, r.md5
    from pg_temp.live_digest l full join projections.digest() r using (table_name)
    where l.md5 is distinct from r.md5;
end;
$$;
comment on function projections.verify_rebuild() is 'Rebuild from events and list tables that differ from the live projection; call it in a transaction you roll back.';
