-- An append of one event takes its own path (a plain insert); it must store and answer exactly what the
-- path for several events does: the same columns, merged metadata, the result's shape.
begin;
select plan(4);

create temporary table t_one_result on commit drop as
select event_store.append_events('t-one', 'no_stream',
  '[{"type":"PackageRetired","schemaVersion":3,"data":{"a":1},"metadata":{"causationId":"c1"}}]', '{"requestId":"r1"}') as r;
select is((select r from t_one_result),
  jsonb_build_object('streamVersion', 1,
    'positions', jsonb_build_array((select position from event_store.events where stream_id = 't-one'))),
  'one event answers {streamVersion, positions: [its position]}');
select results_eq(
  $$select stream_version, type, schema_version, data, metadata from event_store.events where stream_id = 't-one'$$,
  $$values (1::bigint, 'PackageRetired', 3::smallint, '{"a":1}'::jsonb, '{"requestId":"r1","causationId":"c1"}'::jsonb)$$,
  'one event stores its type, schema version, data, and the call metadata merged with its own');
select is(
  (event_store.append_events('t-one', '1', '[{"type":"PackageRetired","data":{}}]', null) -> 'streamVersion')::int,
  2, 'the next one-event append with an exact expected version gets version 2');
select results_eq(
  $$select schema_version, metadata from event_store.events where stream_id = 't-one' and stream_version = 2$$,
  $$values (1::smallint, '{}'::jsonb)$$,
  'defaults: schema version 1, and no metadata (null call metadata) stores {}');

select * from finish();
rollback;
