-- Operations: what an operator reads to know the system is healthy (status views, alerts, the invariant
-- audit, the event chain's seal). Studio-readable as the owner; no API role has any access.
create schema if not exists ops;
comment on schema ops is 'Operations for Studio and GET /admin/ops: status figures (ops.status, ops.metrics), alert rules and alerts, invariant audit runs, the event chain seal.';
revoke all on schema ops from public;

-- "Events appended in the last hour" and the Stripe figures read by time. BRIN indexes cost almost
-- nothing on append (rows arrive in time order) and turn a scan of the whole table into a few pages.
create index if not exists events_recorded_at_brin on event_store.events using brin (recorded_at);
create index if not exists stripe_events_received_at_brin on money.stripe_events using brin (received_at);
