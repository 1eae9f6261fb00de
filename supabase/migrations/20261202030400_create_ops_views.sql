-- What an operator reads in Studio (and GET /admin/ops returns the same figures).
create view ops.metrics as select metric, value, help from ops.metrics_at(now());
comment on view ops.metrics is 'Every operational figure now: (metric, value, help). Alert rules name these metrics; null means not known here.';

create view ops.status as
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
         max(value) filter (where metric = 'alerts_firing') as alerts_firing
  from ops.metrics;
comment on view ops.status is 'The operational figures now, one row (as GET /admin/ops). Ages and lags in seconds.';

create view ops.last_audit as
  select run_id, started_at, finished_at, events_checked, violation_count, violations, acknowledged_at
  from ops.audit_runs order by run_id desc limit 1;
comment on view ops.last_audit is 'The invariant audit''s last run: when, how many events, violations found.';

create view ops.alerts_firing as
  select a.alert_id, a.rule_id, a.severity, a.metric, a.comparison, a.threshold, a.fired_at, a.fired_value, r.description
  from ops.alerts a join ops.alert_rules r using (rule_id) where a.resolved_at is null;
comment on view ops.alerts_firing is 'Alerts firing now, with what they mean.';

