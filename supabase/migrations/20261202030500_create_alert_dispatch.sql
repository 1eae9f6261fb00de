-- Claiming alert webhook notifications (DESIGN.md §9): a short transaction takes due rows with
-- FOR UPDATE SKIP LOCKED and leases them; the dispatcher sends outside any transaction and records each
-- result. A dispatcher that dies leaves its lease to expire, and the row is claimed again.
create function ops.claim_alert_notifications(p_now timestamptz, p_lease_seconds int default 60, p_limit int default 20)
returns table (notification_id bigint, transition text, attempts int, alert_id bigint, rule_id text, severity text,
               metric text, comparison text, threshold numeric, fired_at timestamptz, fired_value numeric,
               resolved_at timestamptz, resolved_value numeric, description text)
language sql as $$
  with due as (
    select n.notification_id from ops.alert_notifications n
    where n.status = 'pending' and n.next_attempt_at <= p_now and (n.lease_until is null or n.lease_until <= p_now)
    order by n.next_attempt_at, n.notification_id
    limit least(greatest(p_limit, 1), 100)
    for update skip locked
  ), claimed as (
    update ops.alert_notifications n
    set lease_until = p_now + make_interval(secs => least(greatest(p_lease_seconds, 5), 3600)), attempts = n.attempts + 1
    from due where n.notification_id = due.notification_id
    returning n.*
  )
  select c.notification_id, c.transition, c.attempts, a.alert_id, a.rule_id, a.severity, a.metric, a.comparison,
         a.threshold, a.fired_at, a.fired_value, a.resolved_at, a.resolved_value, r.description
  from claimed c join ops.alerts a using (alert_id) join ops.alert_rules r using (rule_id)
  order by c.notification_id
$$;
comment on function ops.claim_alert_notifications(timestamptz, int, int) is 'Lease due alert notifications (SKIP LOCKED) for a dispatcher; send them outside the transaction, then ops.record_alert_notification.';

-- After p_attempts_max failed attempts a notification is dead (still visible in ops.alert_notifications);
-- before that it is retried with exponential backoff: 30 s, 1 min, 2 min, ... at most an hour.
create function ops.record_alert_notification(p_notification_id bigint, p_now timestamptz, p_error text,
  p_attempts_max int default 8)
returns text
language sql as $$
  update ops.alert_notifications
  set status = case when p_error is null then 'sent' when attempts >= p_attempts_max then 'dead' else 'pending' end,
      sent_at = case when p_error is null then p_now end,
      last_error = left(p_error, 1000),
      lease_until = null,
      next_attempt_at = case when p_error is null then next_attempt_at
                             else p_now + least(interval '1 hour', interval '30 seconds' * power(2, least(attempts - 1, 10))) end
  where notification_id = p_notification_id and status = 'pending'
  returning status
$$;
comment on function ops.record_alert_notification(bigint, timestamptz, text, int) is 'Record one send: sent (p_error null), or retried later with backoff, or dead after p_attempts_max attempts.';
