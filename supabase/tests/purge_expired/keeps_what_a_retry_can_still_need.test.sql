begin;
select plan(4);

-- One row of each kind just inside and one just outside its retention, as of a fixed "now".
create temp table t as select timestamptz '2031-06-01 12:00:00+00' as now;
insert into money.stripe_events (stripe_event_id, event_type, outcome, received_at) values
  ('evt_purge_old', 'charge.refunded', 'refunded', (select now from t) - interval '90 days 1 second'),
  ('evt_purge_kept', 'charge.refunded', 'refunded', (select now from t) - interval '89 days');
insert into event_store.idempotency_keys (idempotency_key, request_hash, created_at) values
  ('purge-old', 'x', (select now from t) - interval '31 days'),
  ('purge-kept', 'x', (select now from t) - interval '29 days');
insert into private.idempotent_requests (user_id, idempotency_key, request_sha256, created_at) values
  (gen_random_uuid(), 'purge-old', sha256('a'), (select now from t) - interval '25 hours'),
  (gen_random_uuid(), 'purge-kept', sha256('a'), (select now from t) - interval '23 hours');

select ok((private.purge_expired((select now from t)) ->> 'stripeEvents')::int >= 1, 'the job reports what it deleted');
select results_eq($$select stripe_event_id from money.stripe_events where stripe_event_id like 'evt_purge_%'$$,
  $$values ('evt_purge_kept')$$, 'Stripe event ids are kept 90 days');
select results_eq($$select idempotency_key from event_store.idempotency_keys where idempotency_key like 'purge-%'$$,
  $$values ('purge-kept')$$, 'append idempotency keys are kept 30 days');
select results_eq($$select idempotency_key from private.idempotent_requests where idempotency_key like 'purge-%'$$,
  $$values ('purge-kept'::text)$$, 'request idempotency rows are kept 24 hours');

select * from finish();
rollback;
