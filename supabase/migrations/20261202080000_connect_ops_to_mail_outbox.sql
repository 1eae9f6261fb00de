-- Operations meet the mail outbox (issues 9 and 10 were built side by side): the outbox figures read the
-- real notify.outbox, and every alert transition queues a mail to every admin in the same transaction
-- as the transition (notify.enqueue_admin_alert, once per alert and transition), beside the webhook.
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
  select 'outbox_backlog', count(*)::numeric, 'Mails waiting in the outbox (queued or being sent).'
  from notify.outbox where status in ('queued', 'sending')
  union all
  select 'outbox_oldest_age_seconds', coalesce(greatest(0, extract(epoch from p_now - min(created_at))), 0)::numeric,
         'Age of the oldest mail waiting in the outbox.'
  from notify.outbox where status in ('queued', 'sending')
  union all
  select 'dead_mails', count(*)::numeric, 'Mails that failed for good (re-drive with notify.redrive_mails()).'
  from notify.outbox where status = 'dead'
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

create function ops.mail_alert_transition() returns trigger
language plpgsql as $$
declare
  a ops.alerts;
  r ops.alert_rules;
begin
  select * into a from ops.alerts where alert_id = new.alert_id;
  select * into r from ops.alert_rules where rule_id = a.rule_id;
  perform notify.enqueue_admin_alert(new.alert_id || ':' || new.transition, a.severity, coalesce(r.description, a.rule_id),
    new.transition, format('%s %s %s (value %s)', a.metric, a.comparison, a.threshold,
      case new.transition when 'fired' then a.fired_value else a.resolved_value end));
  return null;
end;
$$;
create trigger alert_notifications_mail_admins after insert on ops.alert_notifications
  for each row execute function ops.mail_alert_transition();
