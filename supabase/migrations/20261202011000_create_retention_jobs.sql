-- Retention (issue "Fast at the edge…": tables that grew forever). Events are kept forever (they are
-- the books); what only deduplicates retries is purged once no retry can come any more:
--   private.idempotent_requests   24 hours (as before: the Idempotency-Key contract)
--   event_store.idempotency_keys  30 days  (append retries come from our own code within seconds)
--   money.stripe_events           90 days  (Stripe retries for 3 days and keeps events 30 days for a
--                                 manual resend; every Stripe command is idempotent by itself too:
--                                 a completed purchase, a cumulative refund, a won dispute are no-ops
--                                 when repeated, so this table is the fast path and the audit trail)
-- One job does it all, in bounded batches so it never holds many row locks at once.
create index stripe_events_received_idx on money.stripe_events (received_at);
create index idempotency_keys_created_idx on event_store.idempotency_keys (created_at);

create function private.purge_expired(p_now timestamptz default now(), p_batch int default 10000) returns jsonb
language plpgsql as $$
declare
  v_requests int;
  v_keys int;
  v_stripe int;
begin
  delete from private.idempotent_requests where ctid = any(array(
    select ctid from private.idempotent_requests where created_at < p_now - private.idempotency_retention() limit p_batch));
  get diagnostics v_requests = row_count;
  delete from event_store.idempotency_keys where ctid = any(array(
    select ctid from event_store.idempotency_keys where created_at < p_now - interval '30 days' limit p_batch));
  get diagnostics v_keys = row_count;
  delete from money.stripe_events where ctid = any(array(
    select ctid from money.stripe_events where received_at < p_now - interval '90 days' limit p_batch));
  get diagnostics v_stripe = row_count;
  return jsonb_build_object('idempotentRequests', v_requests, 'appendKeys', v_keys, 'stripeEvents', v_stripe);
end;
$$;
comment on function private.purge_expired(timestamptz, int) is 'Deletes expired retry-deduplication rows (request idempotency 24 h, append keys 30 days, Stripe event ids 90 days), at most p_batch of each per call. pg_cron, every 10 minutes.';

do $$
begin
  if to_regnamespace('cron') is not null then
    perform cron.unschedule(jobid) from cron.job where jobname = 'purge-idempotent-requests';
  end if;
end $$;
select private.schedule_job('purge-expired', '*/10 * * * *', 'select private.purge_expired()');
