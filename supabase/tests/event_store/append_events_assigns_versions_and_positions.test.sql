begin;
select plan(6);

select is(
  event_store.append_events('t-assign', 'no_stream',
    '[{"type":"PackageRetired","data":{"a":1}},{"type":"PackageRetired","data":{"a":2}}]', '{"requestId":"r1"}') ->> 'streamVersion',
  '2', 'two events make version 2');
select results_eq(
  $$select stream_version, data ->> 'a' from event_store.events where stream_id = 't-assign' order by position$$,
  $$values (1::bigint, '1'), (2::bigint, '2')$$,
  'events keep their order and get consecutive versions');
select is((select count(distinct transaction_id) from event_store.events where stream_id = 't-assign'), 1::bigint,
  'events of one append share one transaction id');
select is((select metadata ->> 'requestId' from event_store.events where stream_id = 't-assign' limit 1), 'r1',
  'call metadata is stored on each event');
select is(
  event_store.append_events('t-assign', '2', '[{"type":"PackageRetired","schemaVersion":2,"data":{}}]') ->> 'streamVersion',
  '3', 'an exact expected version that matches appends');
select is((select schema_version from event_store.events where stream_id = 't-assign' and stream_version = 3), 2::smallint,
  'the schema version is recorded');

select * from finish();
rollback;
