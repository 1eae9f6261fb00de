begin;
select plan(2);

-- A rebuild replays events written by older transactions through the same handlers. Here one such
-- event (a Purchased whose transaction is not this one) goes through the handler directly.
create temp table t as select test_support.chain(1) as c, test_support.package(10000, 100, 30) as p;
select test_support.buy((select c[1] from t), (select p from t));
create temp table e as
  select (ev).* from (select ev from event_store.events ev where type = 'Purchased' and data->>'userId' = (select c[1]::text from t)) x;
delete from notify.outbox where user_id = (select c[1] from t);
update e set transaction_id = '3'::xid8;
select notify.enqueue_for_event(jsonb_populate_record(null::event_store.events, to_jsonb(e))) from e;
select is((select count(*)::int from notify.outbox where user_id = (select c[1] from t)), 0,
  'an event of another transaction (a replay) queues nothing');

update e set transaction_id = pg_current_xact_id();
select notify.enqueue_for_event(jsonb_populate_record(null::event_store.events, to_jsonb(e))) from e;
select is((select count(*)::int from notify.outbox where user_id = (select c[1] from t)), 1,
  'the same event appended by this transaction queues its mail');

select * from finish();
rollback;
