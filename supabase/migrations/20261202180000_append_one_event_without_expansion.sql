-- event_store.append_events, unchanged in meaning, with a fast path for one event: an append of one event
-- (what nearly every command and the append benchmark write) inserts with VALUES and builds its result
-- directly, instead of expanding the array with jsonb_array_elements in a CTE and aggregating the
-- positions. Measured with pg_stat_statements in the append benchmark (README, Benchmarks: append).
create or replace function event_store.append_events(
  p_stream_id text,
  p_expected_version text,
  p_events jsonb,
  p_metadata jsonb default '{}'::jsonb,
  p_idempotency_key text default null
) returns jsonb
language plpgsql as $$
declare
  v_count int;
  v_expected bigint;
  v_version bigint;
  v_request_hash text;
  v_stored event_store.idempotency_keys;
  v_result jsonb;
  v_position bigint;
begin
  if jsonb_typeof(p_events) is distinct from 'array' then
    raise exception 'events must be a JSON array' using errcode = '22023';
  end if;
  v_count := jsonb_array_length(p_events);
  if v_count not between 1 and 1000 then
    raise exception 'between 1 and 1000 events per append, got %', v_count using errcode = '22023';
  end if;

  if p_idempotency_key is not null then
    -- Metadata (request ids, times) is left out of the hash: a retry carries new ones.
    v_request_hash := md5(jsonb_build_array(p_stream_id, p_expected_version, p_events)::text);
    -- A concurrent holder of the same key makes this wait until it commits or rolls back.
    insert into event_store.idempotency_keys (idempotency_key, request_hash)
    values (p_idempotency_key, v_request_hash)
    on conflict (idempotency_key) do nothing;
    if not found then
      select * into v_stored from event_store.idempotency_keys k where k.idempotency_key = p_idempotency_key;
      if v_stored.request_hash <> v_request_hash then
        raise exception 'idempotency_key_reused: key % was used with another payload', p_idempotency_key
          using errcode = 'ES422';
      end if;
      return v_stored.result;
    end if;
  end if;

  if p_expected_version = 'any' then
    insert into event_store.streams as s (stream_id, version) values (p_stream_id, v_count)
    on conflict (stream_id) do update set version = s.version + v_count
    returning s.version into v_version;
  elsif p_expected_version in ('no_stream', '0') then
    -- A concurrent creator makes this wait, then see the conflict: never two first events.
    insert into event_store.streams (stream_id, version) values (p_stream_id, v_count)
    on conflict (stream_id) do nothing
    returning version into v_version;
  elsif p_expected_version = 'stream_exists' then
    update event_store.streams set version = version + v_count
    where stream_id = p_stream_id
    returning version into v_version;
  elsif p_expected_version ~ '^[0-9]{1,18}$' then
    v_expected := p_expected_version::bigint;
    -- The row lock plus the re-checked predicate make concurrent writers with the same
    -- expectation fail instead of both succeeding.
    update event_store.streams set version = version + v_count
    where stream_id = p_stream_id and version = v_expected
    returning version into v_version;
  else
    raise exception 'expected version must be any, no_stream, stream_exists or a count, got %',
      p_expected_version using errcode = '22023';
  end if;

  if v_version is null then
    raise exception 'wrong_expected_version: stream % is not at %', p_stream_id, p_expected_version
      using errcode = 'ES409',
            detail = format('actual version: %s',
              coalesce((select version::text from event_store.streams where stream_id = p_stream_id), 'no_stream'));
  end if;

  if v_count = 1 then
    -- One event (nearly every command): a plain insert, without the set-returning expansion, the CTE and
    -- the aggregate of the general case below.
    insert into event_store.events (stream_id, stream_version, type, schema_version, data, metadata)
    values (p_stream_id,
            v_version,
            p_events -> 0 ->> 'type',
            coalesce((p_events -> 0 ->> 'schemaVersion')::smallint, 1),
            p_events -> 0 -> 'data',
            coalesce(p_metadata, '{}'::jsonb) || coalesce(p_events -> 0 -> 'metadata', '{}'::jsonb))
    returning position into v_position;
    v_result := jsonb_build_object('streamVersion', v_version, 'positions', jsonb_build_array(v_position));
  else
    with inserted as (
      insert into event_store.events (stream_id, stream_version, type, schema_version, data, metadata)
      select p_stream_id,
             v_version - v_count + e.ordinality,
             e.value ->> 'type',
             coalesce((e.value ->> 'schemaVersion')::smallint, 1),
             e.value -> 'data',
             coalesce(p_metadata, '{}'::jsonb) || coalesce(e.value -> 'metadata', '{}'::jsonb)
      from jsonb_array_elements(p_events) with ordinality as e
      order by e.ordinality
      returning position
    )
    select jsonb_build_object('streamVersion', v_version, 'positions', jsonb_agg(position order by position))
    into v_result
    from inserted;
  end if;

  if p_idempotency_key is not null then
    update event_store.idempotency_keys set result = v_result where idempotency_key = p_idempotency_key;
  end if;
  return v_result;
end;
$$;
comment on function event_store.append_events(text, text, jsonb, jsonb, text) is
  'Append events with an expected version (any, no_stream, stream_exists, n). Errors: ES409 wrong version, ES422 idempotency key reused.';
