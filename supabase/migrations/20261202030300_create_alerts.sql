-- Alert rules are data: a rule fires when its metric has met the condition for for_seconds, once, and
-- resolves when the condition has been clear for clear_seconds, once. The clear period is the
-- hysteresis: a metric flapping across the threshold keeps one alert open instead of firing and
-- resolving every minute. Each fire and resolve enqueues one webhook notification (sent by the
-- dispatcher outside any transaction, see _shared/infra/alert_webhook.ts).
create table ops.alert_rules (
  rule_id text primary key,
  metric text not null,
  comparison text not null,
  threshold numeric not null,
  for_seconds int not null default 0,
  clear_seconds int not null default 300,
  severity text not null,
  enabled boolean not null default true,
  description text not null,
  constraint alert_rules_rule_id_format check (rule_id ~ '^[a-z][a-z0-9_]{1,62}$'),
  constraint alert_rules_comparison_check check (comparison in ('>', '>=', '<', '<=', '=', '<>')),
  constraint alert_rules_severity_check check (severity in ('info', 'warning', 'critical')),
  constraint alert_rules_for_seconds_range check (for_seconds between 0 and 604800),
  constraint alert_rules_clear_seconds_range check (clear_seconds between 0 and 604800)
);
comment on table ops.alert_rules is 'Alert rules: fire when `metric comparison threshold` has held for for_seconds; resolve when clear for clear_seconds. Metrics are the names in ops.metrics. Edit rows to tune; evaluated every minute by pg_cron.';

insert into ops.alert_rules (rule_id, metric, comparison, threshold, for_seconds, clear_seconds, severity, description) values
  ('earnings_lag', 'earnings_lag_seconds', '>', 7200, 300, 300, 'critical', 'Earnings have not been accrued for over 2 hours: the earnings job is failing or not running.'),
  ('release_lag', 'release_lag_seconds', '>', 7200, 300, 300, 'warning', 'Commissions past their holding period have waited over 2 hours to be released.'),
  ('outbox_oldest', 'outbox_oldest_age_seconds', '>', 900, 300, 300, 'warning', 'A mail has waited in the outbox for over 15 minutes.'),
  ('dead_mail', 'dead_mails', '>', 0, 0, 300, 'warning', 'A mail failed for good.'),
  ('cron_failed', 'cron_failures_24h', '>', 0, 0, 300, 'warning', 'A pg_cron job run failed in the last 24 hours (cron.job_run_details).'),
  ('kyc_oldest', 'kyc_oldest_age_seconds', '>', 172800, 0, 300, 'warning', 'A KYC case has waited over 48 hours for a decision.'),
  ('withdrawal_review_oldest', 'withdrawals_oldest_age_seconds', '>', 172800, 0, 300, 'warning', 'A withdrawal has waited over 48 hours for approval.'),
  ('stripe_event_failed', 'stripe_events_failed_24h', '>', 0, 0, 300, 'warning', 'A Stripe event could not be applied in the last 24 hours: money may have arrived uncredited.'),
  ('invariant_violation', 'audit_unacknowledged_violations', '>', 0, 0, 0, 'critical', 'The invariant audit found money that does not add up. Look at ops.audit_runs, then acknowledge with ops.acknowledge_audit_run.'),
  ('audit_not_running', 'audit_last_run_age_seconds', '>', 10800, 0, 300, 'warning', 'The invariant audit has not run for 3 hours.');

-- Where each rule stands between evaluations.
create table ops.alert_rule_state (
  rule_id text primary key references ops.alert_rules (rule_id) on delete cascade,
  holding_since timestamptz,
  clear_since timestamptz,
  last_value numeric,
  evaluated_at timestamptz not null
);
comment on table ops.alert_rule_state is 'Per rule: since when the condition holds (or has been clear while an alert is open), the last value seen.';

create table ops.alerts (
  alert_id bigint generated always as identity primary key,
  rule_id text not null references ops.alert_rules (rule_id) on delete cascade,
  metric text not null,
  severity text not null,
  comparison text not null,
  threshold numeric not null,
  fired_at timestamptz not null,
  fired_value numeric not null,
  resolved_at timestamptz,
  resolved_value numeric,
  constraint alerts_resolved_after_fired check (resolved_at is null or resolved_at >= fired_at)
);
comment on table ops.alerts is 'Every alert: fired (with the value) and resolved (null while firing). At most one open alert per rule.';
create unique index alerts_one_open_per_rule on ops.alerts (rule_id) where resolved_at is null;
create index alerts_fired_idx on ops.alerts (fired_at desc, alert_id desc);

-- Webhook notifications, one per alert and transition. Claimed with SKIP LOCKED and a lease, sent
-- outside the transaction, retried with backoff; an expired lease (a dispatcher that died) is retried.
create table ops.alert_notifications (
  notification_id bigint generated always as identity primary key,
  alert_id bigint not null references ops.alerts (alert_id) on delete cascade,
  transition text not null,
  status text not null default 'pending',
  attempts int not null default 0,
  next_attempt_at timestamptz not null,
  lease_until timestamptz,
  last_error text,
  created_at timestamptz not null,
  sent_at timestamptz,
  constraint alert_notifications_transition_check check (transition in ('fired', 'resolved')),
  constraint alert_notifications_status_check check (status in ('pending', 'sent', 'dead')),
  constraint alert_notifications_once unique (alert_id, transition)
);
comment on table ops.alert_notifications is 'Alert webhook deliveries (ALERT_WEBHOOK_URL): pending, sent, or dead after the last retry.';
create index alert_notifications_due_idx on ops.alert_notifications (next_attempt_at) where status = 'pending';

create function ops.condition_holds(p_value numeric, p_comparison text, p_threshold numeric) returns boolean
language sql immutable as $$
  select case p_comparison when '>' then p_value > p_threshold when '>=' then p_value >= p_threshold
    when '<' then p_value < p_threshold when '<=' then p_value <= p_threshold
    when '=' then p_value = p_threshold when '<>' then p_value <> p_threshold end
$$;

-- One evaluation of every enabled rule against p_metrics ({metric: value}) at p_now. A metric that is
-- missing or null leaves its rule as it was (unknown is neither firing nor clear).
-- Returns {fired: [rule ids], resolved: [rule ids]}.
create function ops.evaluate_alerts(p_now timestamptz, p_metrics jsonb) returns jsonb
language plpgsql as $$
declare
  r record;
  v_value numeric;
  v_state ops.alert_rule_state;
  v_open ops.alerts;
  v_alert_id bigint;
  v_fired text[] := '{}';
  v_resolved text[] := '{}';
begin
  -- One evaluator at a time, so two overlapping runs cannot both fire the same rule.
  perform pg_advisory_xact_lock(hashtextextended('ops:evaluate-alerts', 0));
  for r in select * from ops.alert_rules where enabled order by rule_id loop
    v_value := (p_metrics ->> r.metric)::numeric;
    continue when v_value is null;
    select * into v_state from ops.alert_rule_state where rule_id = r.rule_id;
    select * into v_open from ops.alerts where rule_id = r.rule_id and resolved_at is null;
    if ops.condition_holds(v_value, r.comparison, r.threshold) then
      v_state.holding_since := coalesce(v_state.holding_since, p_now);
      v_state.clear_since := null;
      if v_open.alert_id is null and p_now - v_state.holding_since >= make_interval(secs => r.for_seconds) then
        insert into ops.alerts (rule_id, metric, severity, comparison, threshold, fired_at, fired_value)
        values (r.rule_id, r.metric, r.severity, r.comparison, r.threshold, p_now, v_value)
        returning alert_id into v_alert_id;
        insert into ops.alert_notifications (alert_id, transition, next_attempt_at, created_at)
        values (v_alert_id, 'fired', p_now, p_now);
        v_fired := v_fired || r.rule_id;
      end if;
    else
      v_state.holding_since := null;
      if v_open.alert_id is null then
        v_state.clear_since := null;
      else
        v_state.clear_since := coalesce(v_state.clear_since, p_now);
        if p_now - v_state.clear_since >= make_interval(secs => r.clear_seconds) then
          update ops.alerts set resolved_at = p_now, resolved_value = v_value where alert_id = v_open.alert_id;
          insert into ops.alert_notifications (alert_id, transition, next_attempt_at, created_at)
          values (v_open.alert_id, 'resolved', p_now, p_now);
          v_state.clear_since := null;
          v_resolved := v_resolved || r.rule_id;
        end if;
      end if;
    end if;
    insert into ops.alert_rule_state (rule_id, holding_since, clear_since, last_value, evaluated_at)
    values (r.rule_id, v_state.holding_since, v_state.clear_since, v_value, p_now)
    on conflict (rule_id) do update set holding_since = excluded.holding_since, clear_since = excluded.clear_since,
      last_value = excluded.last_value, evaluated_at = excluded.evaluated_at;
  end loop;
  return jsonb_build_object('fired', to_jsonb(v_fired), 'resolved', to_jsonb(v_resolved));
end;
$$;
comment on function ops.evaluate_alerts(timestamptz, jsonb) is 'Evaluate every enabled rule against {metric: value} at p_now: fire once after for_seconds, resolve once after clear_seconds.';

-- What pg_cron runs every minute: the figures now, then the rules.
create function ops.run_alert_evaluation(p_now timestamptz default now()) returns jsonb
language sql as $$
  select ops.evaluate_alerts(p_now, (select jsonb_object_agg(metric, value) from ops.metrics_at(p_now)))
$$;
comment on function ops.run_alert_evaluation(timestamptz) is 'Collect ops.metrics_at(p_now) and evaluate the alert rules (pg_cron, every minute).';

select private.schedule_job('evaluate-alerts', '* * * * *', 'select ops.run_alert_evaluation()');
