begin;
select plan(4);

select event_store.append_events('t-immutable', 'no_stream', '[{"type":"PackageRetired","data":{"v":1}}]');
select throws_ok($$update event_store.events set data = '{"v":2}' where stream_id = 't-immutable'$$,
  'ES403', null, 'UPDATE is rejected');
select throws_ok($$delete from event_store.events where stream_id = 't-immutable'$$,
  'ES403', null, 'DELETE is rejected');
select throws_ok($$truncate event_store.events$$, 'ES403', null, 'TRUNCATE is rejected');
select is((select data ->> 'v' from event_store.events where stream_id = 't-immutable'), '1', 'the event is unchanged');

select * from finish();
rollback;
