-- Read every event after a checkpoint, in (transaction_id, position) order, handing out only events
-- whose transaction is older than every transaction still running. Positions come from a sequence,
-- so a lower position can commit after a higher one; a reader that polls "position > last" would
-- skip it (DESIGN.md §2, trap 3). Every transaction older than the snapshot's xmin has ended, and every
-- later one gets a larger transaction id, so nothing behind a checkpoint can appear afterwards.
create function event_store.read_all(
  p_after_transaction_id xid8,
  p_after_position bigint,
  p_limit int default 1000
) returns setof event_store.events
language sql stable as $$
  select *
  from event_store.events e
  where (e.transaction_id, e.position) > (p_after_transaction_id, p_after_position)
    and e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
  order by e.transaction_id, e.position
  limit least(greatest(p_limit, 1), 10000);
$$;
comment on function event_store.read_all(xid8, bigint, int) is
  'Events after (transaction_id, position), committed-order safe; at most 10000 per call.';

create function event_store.read_stream(p_stream_id text, p_after_version bigint default 0, p_limit int default 1000)
returns setof event_store.events
language sql stable as $$
  select * from event_store.events
  where stream_id = p_stream_id and stream_version > p_after_version
  order by stream_version
  limit least(greatest(p_limit, 1), 10000);
$$;

-- Checkpoints only move forward, so a slow duplicate consumer cannot rewind another's progress.
create function event_store.save_checkpoint(p_consumer text, p_transaction_id xid8, p_position bigint)
returns void
language sql as $$
  insert into event_store.checkpoints as c (consumer, transaction_id, position)
  values (p_consumer, p_transaction_id, p_position)
  on conflict (consumer) do update
    set transaction_id = excluded.transaction_id, position = excluded.position, updated_at = now()
    where (c.transaction_id, c.position) < (excluded.transaction_id, excluded.position);
$$;
