-- The write model: one append-only table of domain events, grouped in streams.
-- Every number people read is projected from these rows, so they must never be wrong:
-- expected versions are enforced inside the database (a locked stream row), never by
-- an unlocked read followed by an insert (DESIGN.md §2, trap 1).

create schema if not exists event_store;
comment on schema event_store is 'Append-only domain events (the write model). Read through projections, never edited.';
revoke all on schema event_store from public;

create table event_store.streams (
  stream_id text primary key,
  version bigint not null,
  constraint streams_stream_id_length check (length(stream_id) between 1 and 200),
  constraint streams_version_positive check (version >= 1)
);
comment on table event_store.streams is 'One row per stream with its current version; the row lock serialises appends to one stream only.';

create table event_store.events (
  position bigint generated always as identity primary key,
  stream_id text not null,
  stream_version bigint not null,
  type text not null,
  schema_version smallint not null default 1,
  data jsonb not null,
  metadata jsonb not null default '{}'::jsonb,
  -- The writing transaction: readers use it to never skip an event committed out of position order.
  transaction_id xid8 not null default pg_current_xact_id(),
  recorded_at timestamptz not null default now(),
  constraint events_stream_version_key unique (stream_id, stream_version),
  constraint events_type_format check (type ~ '^[A-Z][A-Za-z0-9]{1,99}$'),
  constraint events_schema_version_positive check (schema_version >= 1),
  constraint events_data_is_object check (jsonb_typeof(data) = 'object'),
  constraint events_metadata_is_object check (jsonb_typeof(metadata) = 'object')
);
comment on table event_store.events is 'Immutable domain events. position is global but not commit order; read in (transaction_id, position) order.';
create index events_transaction_id_position_idx on event_store.events (transaction_id, position);

create table event_store.idempotency_keys (
  idempotency_key text primary key,
  request_hash text not null,
  result jsonb,
  created_at timestamptz not null default now(),
  constraint idempotency_keys_key_length check (length(idempotency_key) between 1 and 255)
);
comment on table event_store.idempotency_keys is 'Append idempotency: the same key and payload returns the first result; another payload is an error.';

create table event_store.checkpoints (
  consumer text primary key,
  transaction_id xid8 not null default '0'::xid8,
  position bigint not null default 0,
  updated_at timestamptz not null default now()
);
comment on table event_store.checkpoints is 'How far each consumer has read, as (transaction_id, position).';

-- Events are facts: corrections are new events, never edits.
create function event_store.reject_event_change() returns trigger
language plpgsql as $$
begin
  raise exception 'events are immutable: % is not allowed on event_store.events', tg_op
    using errcode = 'ES403';
end;
$$;

create trigger events_reject_update_delete before update or delete on event_store.events
  for each row execute function event_store.reject_event_change();
create trigger events_reject_truncate before truncate on event_store.events
  for each statement execute function event_store.reject_event_change();
