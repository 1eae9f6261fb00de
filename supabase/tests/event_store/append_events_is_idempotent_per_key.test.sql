begin;
select plan(5);

select is(
  event_store.append_events('t-idem', 'any', '[{"type":"PackageRetired","data":{"n":1}}]', '{"requestId":"first"}', 'key-1'),
  event_store.append_events('t-idem', 'any', '[{"type":"PackageRetired","data":{"n":1}}]', '{"requestId":"retry"}', 'key-1'),
  'the same key and payload returns the first result');
select is((select count(*) from event_store.events where stream_id = 't-idem'), 1::bigint,
  'the repeat wrote nothing');
select throws_ok(
  $$select event_store.append_events('t-idem', 'any', '[{"type":"PackageRetired","data":{"n":2}}]', '{}', 'key-1')$$,
  'ES422', null, 'the same key with another payload fails');
select throws_ok(
  $$select event_store.append_events('t-idem-other', 'any', '[{"type":"PackageRetired","data":{"n":1}}]', '{}', 'key-1')$$,
  'ES422', null, 'the same key on another stream fails');
select is((select count(*) from event_store.events where stream_id in ('t-idem', 't-idem-other')), 1::bigint,
  'refused repeats wrote nothing');

select * from finish();
rollback;
