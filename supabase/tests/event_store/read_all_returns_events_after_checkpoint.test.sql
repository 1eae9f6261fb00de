begin;
select plan(3);

-- Inside one transaction our own events are not yet readable: read_all hands out only events of
-- transactions that have ended (the concurrent cases are in tests/event_store_test.ts).
select event_store.append_events('t-read', 'no_stream', '[{"type":"PackageRetired","data":{}}]');
select is((select count(*) from event_store.read_all('0'::xid8, 0, 10000) where stream_id = 't-read'), 0::bigint,
  'events of a running transaction are not handed out');
select is((select count(*) from event_store.read_stream('t-read')), 1::bigint, 'read_stream sees the stream');

select event_store.save_checkpoint('t-consumer', '100'::xid8, 5);
select event_store.save_checkpoint('t-consumer', '90'::xid8, 9);
select is((select transaction_id::text || '/' || position from event_store.checkpoints where consumer = 't-consumer'),
  '100/5', 'a checkpoint never moves backwards');

select * from finish();
rollback;
