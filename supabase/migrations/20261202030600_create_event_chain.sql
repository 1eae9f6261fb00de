-- Tamper-evident history: every event gets a SHA-256 hash chained to the previous event's, in the order
-- readers see (transaction_id, position), below the snapshot horizon. Hashing on append would need the
-- previous hash, so a global lock on every append (DESIGN.md §2, trap 4); instead a sealer follows the
-- reader order behind the writers, like any projection consumer, and the unsealed tail stays visible
-- (ops figures chain_unsealed_*). Events stay untouched: the hashes live beside them.
create table event_store.chain (
  seq bigint primary key,
  position bigint not null,
  transaction_id xid8 not null,
  hash bytea not null,
  sealed_at timestamptz not null default now(),
  constraint chain_position_key unique (position),
  constraint chain_seq_positive check (seq >= 1),
  constraint chain_hash_length check (length(hash) = 32)
);
comment on table event_store.chain is 'The hash chain: seq-th event in reader order, hash = sha256(previous hash || event_store.event_digest_input(event)). Verify with event_store.verify_chain(from_seq, to_seq).';

create trigger chain_reject_update_delete before update or delete on event_store.chain
  for each row execute function event_store.reject_event_change();

-- The bytes an event's hash covers: every column, in an unambiguous encoding (a JSON array; jsonb's text
-- form is canonical), the time as integer microseconds so the session's time zone plays no part.
create function event_store.event_digest_input(e event_store.events) returns bytea
language sql immutable as $$
  select convert_to(jsonb_build_array(e.position, e.stream_id, e.stream_version, e.type, e.schema_version, e.data,
    e.metadata, e.transaction_id::text, (extract(epoch from e.recorded_at) * 1000000)::bigint)::text, 'UTF8')
$$;

-- The genesis: the hash before the first event.
create function event_store.chain_genesis() returns bytea
language sql immutable as $$ select decode(repeat('00', 32), 'hex') $$;

-- Seal the next events in reader order, at most p_limit. One sealer at a time (an advisory lock the
-- append path never takes). Returns how many were sealed.
create function event_store.seal_chain(p_limit int default 10000) returns int
language plpgsql as $$
declare
  v_head event_store.chain;
  v_prev bytea;
  v_seq bigint;
  v_after_tx xid8 := '0'::xid8;
  v_after_pos bigint := 0;
  v_positions bigint[] := '{}';
  v_txs xid8[] := '{}';
  v_hashes bytea[] := '{}';
  e event_store.events;
begin
  if not pg_try_advisory_xact_lock(hashtextextended('event_store:seal', 0)) then return 0; end if;
  select * into v_head from event_store.chain order by seq desc limit 1;
  v_prev := coalesce(v_head.hash, event_store.chain_genesis());
  v_seq := coalesce(v_head.seq, 0);
  if v_head.seq is not null then
    v_after_tx := v_head.transaction_id;
    v_after_pos := v_head.position;
  end if;
  for e in select * from event_store.read_all(v_after_tx, v_after_pos, least(greatest(p_limit, 1), 10000)) loop
    v_prev := sha256(v_prev || event_store.event_digest_input(e));
    v_positions := v_positions || e.position;
    v_txs := v_txs || e.transaction_id;
    v_hashes := v_hashes || v_prev;
  end loop;
  insert into event_store.chain (seq, position, transaction_id, hash)
  select v_seq + i, v_positions[i], v_txs[i], v_hashes[i] from generate_subscripts(v_positions, 1) i;
  return cardinality(v_positions);
end;
$$;
comment on function event_store.seal_chain(int) is 'Hash-chain the next events in reader order (at most p_limit, 10000 max). Safe to run concurrently (one seals, the others return 0).';

-- The sealer pg_cron runs every minute: seal, commit, pause p_pause_seconds, for p_run_seconds. pg_cron's
-- schedules are in minutes; this keeps the unsealed tail to a few seconds of events.
create procedure event_store.run_sealer(p_run_seconds int default 55, p_pause_seconds numeric default 2)
language plpgsql as $$
declare
  v_until timestamptz := clock_timestamp() + make_interval(secs => least(p_run_seconds, 3600));
  v_sealed int;
begin
  loop
    v_sealed := event_store.seal_chain(10000);
    commit;
    exit when clock_timestamp() >= v_until;
    -- A full batch means a backlog: go on at once.
    if v_sealed < 10000 then perform pg_sleep(p_pause_seconds); end if;
  end loop;
end;
$$;
comment on procedure event_store.run_sealer(int, numeric) is 'Seal continuously for p_run_seconds, every p_pause_seconds (pg_cron: every minute).';

-- Recompute the chain between two sequence numbers (null: from the start / to the sealed head). Returns the
-- first link that does not verify, with the event's position and why; no rows when intact.
create function event_store.verify_chain(p_from_seq bigint default null, p_to_seq bigint default null)
returns table (seq bigint, event_position bigint, problem text)
language sql stable as $$
  select c.seq, c.position,
         case when e.position is null then 'event missing'
              when e.transaction_id <> c.transaction_id then 'event moved'
              when c.seq > 1 and p.seq is null then 'previous link missing'
              else 'hash mismatch' end
  from event_store.chain c
  left join event_store.events e on e.position = c.position
  left join event_store.chain p on p.seq = c.seq - 1
  where c.seq >= coalesce(p_from_seq, 1) and c.seq <= coalesce(p_to_seq, 9223372036854775807)
    and (e.position is null or e.transaction_id <> c.transaction_id or (c.seq > 1 and p.seq is null)
         or sha256(coalesce(p.hash, event_store.chain_genesis()) || event_store.event_digest_input(e)) <> c.hash)
  order by c.seq
  limit 1
$$;
comment on function event_store.verify_chain(bigint, bigint) is 'Recompute the hash chain from seq p_from to p_to (null: whole chain); the first broken link (seq, event position, problem), no rows when intact.';

create function event_store.chain_head() returns table (seq bigint, event_position bigint, hash text, sealed_at timestamptz)
language sql stable as $$
  select seq, position, encode(hash, 'hex'), sealed_at from event_store.chain order by seq desc limit 1
$$;
comment on function event_store.chain_head() is 'The sealed head: last sealed sequence number, its event, its hash (hex).';

select private.schedule_job('seal-event-chain', '* * * * *', 'call event_store.run_sealer(55, 2)');
