begin;
select plan(5);

-- The admin first, in its own statement: a count in the same statement would not see an admin it creates.
select test_support.admin();
create temp table t as select (select count(*) from private.credentials where role = 'admin') as admins;
insert into ops.alert_rules (rule_id, metric, comparison, threshold, for_seconds, clear_seconds, severity, description)
values ('test_mailed', 'test_mailed_metric', '>', 10, 0, 0, 'critical', 'A test alert');
create temp table clock as select date_trunc('minute', now()) + interval '1 day' as t0;

-- Fires, stays firing for three minutes, then clears: one fired and one resolved transition.
select ops.evaluate_alerts((select t0 from clock) + make_interval(mins => m), jsonb_build_object('test_mailed_metric', 11))
from generate_series(0, 2) m;
select ops.evaluate_alerts((select t0 from clock) + interval '3 minutes', '{"test_mailed_metric": 9}');

create temp table mails as
select o.* from notify.outbox o
where o.kind = 'admin_alert' and o.dedupe_key like 'admin_alert:' || (select alert_id from ops.alerts where rule_id = 'test_mailed') || ':%';
select is((select count(*) from mails where variables ->> 'state' = 'fired'), (select admins from t),
  'firing mails every admin once, in the evaluating transaction');
select is((select count(*) from mails where variables ->> 'state' = 'resolved'), (select admins from t),
  'resolving mails them once more');
select ok((select bool_and(variables ->> 'title' = 'A test alert' and variables ->> 'severity' = 'critical') from mails),
  'with the rule''s description and severity');

-- The outbox figures are real now.
select is((select value from ops.metrics_at(now()) where metric = 'outbox_backlog'),
  (select count(*)::numeric from notify.outbox where status in ('queued', 'sending')), 'the outbox backlog is counted');
select is((select value from ops.metrics_at(now()) where metric = 'dead_mails'),
  (select count(*)::numeric from notify.outbox where status = 'dead'), 'dead mails are counted');

select * from finish();
rollback;
