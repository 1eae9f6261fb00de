-- The chain's sealed head and unsealed tail among the operational figures, and an alert when the tail
-- stops moving (the sealer is not running).
create or replace function ops.chain_figures(p_now timestamptz)
returns table (metric text, value numeric, help text)
language sql stable as $$
  with head as (select seq, transaction_id, position from event_store.chain order by seq desc limit 1),
  tail as (
    select count(*) as n, min(e.recorded_at) as oldest
    from event_store.events e
    where (e.transaction_id, e.position) > (select coalesce((select transaction_id from head), '0'::xid8),
                                                   coalesce((select position from head), 0))
  )
  select 'chain_sealed_events', coalesce((select seq from head), 0)::numeric, 'Events sealed into the hash chain.'
  union all
  select 'chain_sealed_position', (select position from head)::numeric, 'Event position of the sealed head.'
  union all
  select 'chain_unsealed_events', n::numeric, 'Events not yet sealed (committed or in flight).' from tail
  union all
  select 'chain_unsealed_oldest_age_seconds', coalesce(greatest(0, extract(epoch from p_now - oldest)), 0)::numeric,
         'Age of the oldest event not yet sealed (a few seconds when the sealer runs).' from tail
$$;

create or replace function ops.metrics_at(p_now timestamptz)
returns table (metric text, value numeric, help text)
language plpgsql stable as $$
declare
  v_cron_failures numeric;
begin
  if to_regclass('cron.job_run_details') is not null then
    execute 'select count(*) from cron.job_run_details where status = ''failed'' and start_time > $1 - interval ''24 hours'' and start_time <= $1'
      into v_cron_failures using p_now;
  end if;
  return query
  with w as (select money.earnings_watermark() as watermark,
                    (select date_trunc('hour', min(starts_at)) from public.contracts) as first_start)
  select 'earnings_lag_seconds', greatest(0, extract(epoch from p_now - coalesce(w.watermark, w.first_start, p_now)))::numeric,
         'Now minus the end of the last accrued earnings period (up to an hour and a minute when healthy).'
  from w
  union all
  select 'release_lag_seconds', coalesce(extract(epoch from p_now - min(releases_at)), 0)::numeric,
         'How long the oldest commission past its holding period has waited to be released.'
  from public.commissions where status = 'pending' and releases_at <= p_now
  union all
  -- The transactional mail outbox (issue 9) is not built yet: these read null until it replaces them.
  select 'outbox_backlog', null::numeric, 'Mails waiting in the outbox.'
  union all
  select 'outbox_oldest_age_seconds', null::numeric, 'Age of the oldest mail waiting in the outbox.'
  union all
  select 'dead_mails', null::numeric, 'Mails that failed for good.'
  union all
  select 'stripe_events_failed_24h', count(*)::numeric,
         'Stripe events in the last 24 hours that could not be applied (unknown purchase, amount mismatch): money may have arrived uncredited.'
  from money.stripe_events
  where received_at > p_now - interval '24 hours' and received_at <= p_now
    and (outcome is null or outcome in ('unknown_purchase', 'amount_mismatch'))
  union all
  select 'stripe_events_ignored_24h', count(*)::numeric, 'Stripe events in the last 24 hours of a type we do not handle.'
  from money.stripe_events
  where received_at > p_now - interval '24 hours' and received_at <= p_now and outcome = 'ignored'
  union all
  select 'cron_failures_24h', v_cron_failures, 'pg_cron job runs that failed in the last 24 hours (cron.job_run_details).'
  union all
  select 'kyc_queue_size', count(*)::numeric, 'KYC cases waiting for a decision.'
  from public.kyc_cases where status = 'pending'
  union all
  select 'kyc_oldest_age_seconds', coalesce(extract(epoch from p_now - min(submitted_at)), 0)::numeric,
         'Age of the oldest KYC case waiting for a decision.'
  from public.kyc_cases where status = 'pending'
  union all
  select 'withdrawals_awaiting_review', count(*)::numeric, 'Withdrawals waiting for an admin''s approval.'
  from public.withdrawals where status = 'pending'
  union all
  select 'withdrawals_oldest_age_seconds', coalesce(extract(epoch from p_now - min(requested_at)), 0)::numeric,
         'Age of the oldest withdrawal waiting for approval.'
  from public.withdrawals where status = 'pending'
  union all
  select 'events_last_hour', count(*)::numeric, 'Events appended in the hour before now.'
  from event_store.events where recorded_at > p_now - interval '1 hour' and recorded_at <= p_now
  union all
  select 'audit_unacknowledged_violations', coalesce(sum(violation_count), 0)::numeric,
         'Invariant violations found by audit runs no operator has acknowledged yet.'
  from ops.audit_runs where violation_count > 0 and acknowledged_at is null
  union all
  select 'audit_last_run_age_seconds', extract(epoch from p_now - max(finished_at))::numeric,
         'Time since the invariant audit last ran (hourly when healthy).'
  from ops.audit_runs
  union all
  select 'alerts_firing', count(*)::numeric, 'Alerts fired and not yet resolved.'
  from ops.alerts where resolved_at is null
  union all
  select * from ops.chain_figures(p_now);
end;
$$;

create or replace view ops.status as
  select max(value) filter (where metric = 'earnings_lag_seconds') as earnings_lag_seconds,
         max(value) filter (where metric = 'release_lag_seconds') as release_lag_seconds,
         max(value) filter (where metric = 'outbox_backlog') as outbox_backlog,
         max(value) filter (where metric = 'outbox_oldest_age_seconds') as outbox_oldest_age_seconds,
         max(value) filter (where metric = 'dead_mails') as dead_mails,
         max(value) filter (where metric = 'stripe_events_failed_24h') as stripe_events_failed_24h,
         max(value) filter (where metric = 'stripe_events_ignored_24h') as stripe_events_ignored_24h,
         max(value) filter (where metric = 'cron_failures_24h') as cron_failures_24h,
         max(value) filter (where metric = 'kyc_queue_size') as kyc_queue_size,
         max(value) filter (where metric = 'kyc_oldest_age_seconds') as kyc_oldest_age_seconds,
         max(value) filter (where metric = 'withdrawals_awaiting_review') as withdrawals_awaiting_review,
         max(value) filter (where metric = 'withdrawals_oldest_age_seconds') as withdrawals_oldest_age_seconds,
         max(value) filter (where metric = 'events_last_hour') as events_last_hour,
         max(value) filter (where metric = 'audit_unacknowledged_violations') as audit_unacknowledged_violations,
         max(value) filter (where metric = 'alerts_firing') as alerts_firing,
         max(value) filter (where metric = 'chain_sealed_events') as chain_sealed_events,
         max(value) filter (where metric = 'chain_sealed_position') as chain_sealed_position,
         max(value) filter (where metric = 'chain_unsealed_events') as chain_unsealed_events,
         max(value) filter (where metric = 'chain_unsealed_oldest_age_seconds') as chain_unsealed_oldest_age_seconds
  from ops.metrics;

insert into ops.alert_rules (rule_id, metric, comparison, threshold, for_seconds, clear_seconds, severity, description) values
  ('chain_unsealed', 'chain_unsealed_oldest_age_seconds', '>', 300, 120, 300, 'warning',
   'Events older than 5 minutes are not sealed into the hash chain: the sealer (pg_cron seal-event-chain) is not running or cannot keep up.');
