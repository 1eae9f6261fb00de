begin;
select plan(9);

select lives_ok($$select event_store.append_events('t-expect', 'no_stream', '[{"type":"PackageRetired","data":{}}]')$$,
  'no_stream on a new stream appends');
select throws_ok($$select event_store.append_events('t-expect', 'no_stream', '[{"type":"PackageRetired","data":{}}]')$$,
  'ES409', null, 'no_stream twice fails the second time');
select throws_ok($$select event_store.append_events('t-expect', '0', '[{"type":"PackageRetired","data":{}}]')$$,
  'ES409', null, 'expected version 0 means no stream');
select throws_ok($$select event_store.append_events('t-expect', '5', '[{"type":"PackageRetired","data":{}}]')$$,
  'ES409', null, 'a stale or future exact version fails');
select throws_ok($$select event_store.append_events('t-expect-missing', 'stream_exists', '[{"type":"PackageRetired","data":{}}]')$$,
  'ES409', null, 'stream_exists on a missing stream fails');
select lives_ok($$select event_store.append_events('t-expect', 'stream_exists', '[{"type":"PackageRetired","data":{}}]')$$,
  'stream_exists on an existing stream appends');
select lives_ok($$select event_store.append_events('t-expect', 'any', '[{"type":"PackageRetired","data":{}}]')$$,
  'any appends to an existing stream');
select is((select version from event_store.streams where stream_id = 't-expect'), 3::bigint,
  'failed appends left the stream at the version of the successful ones');
select throws_ok($$select event_store.append_events('t-expect', 'latest', '[{"type":"PackageRetired","data":{}}]')$$,
  '22023', null, 'an unknown expectation is rejected');

select * from finish();
rollback;
