begin;
select plan(5);

select throws_ok($$select event_store.append_events('t-bad', 'any', '[]')$$, '22023', null, 'an empty batch is refused');
select throws_ok($$select event_store.append_events('t-bad', 'any', '{"type":"PackageRetired"}')$$, '22023', null,
  'a batch that is not an array is refused');
select throws_ok($$select event_store.append_events('t-bad', 'any', '[{"type":"lowercase","data":{}}]')$$, '23514', null,
  'an event type that is not PascalCase is refused');
select throws_ok($$select event_store.append_events('t-bad', 'any', '[{"type":"PackageRetired","data":[1]}]')$$, '23514', null,
  'data that is not an object is refused');
select is((select count(*) from event_store.streams where stream_id = 't-bad'), 0::bigint,
  'a refused append leaves no stream behind');

select * from finish();
rollback;
