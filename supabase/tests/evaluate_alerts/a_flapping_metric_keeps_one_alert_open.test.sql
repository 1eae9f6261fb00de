begin;
select plan(5);

-- A rule of the test's own on a metric only the test reports.
insert into ops.alert_rules (rule_id, metric, comparison, threshold, for_seconds, clear_seconds, severity, description)
values ('test_flapping', 'test_metric', '>', 10, 0, 300, 'warning', 'test');
create temp table clock as select date_trunc('minute', now()) + interval '1 day' as t0;

-- Above, below, above, below... every minute for 20 minutes.
select ops.evaluate_alerts((select t0 from clock) + make_interval(mins => m),
  jsonb_build_object('test_metric', case when m % 2 = 0 then 11 else 9 end))
from generate_series(0, 19) m;
select is((select count(*) from ops.alerts where rule_id = 'test_flapping'), 1::bigint,
  'twenty minutes of flapping fire one alert');
select is((select count(*) from ops.alerts where rule_id = 'test_flapping' and resolved_at is null), 1::bigint,
  'and keep it open (never clear for the clear period)');
select is((select count(*) from ops.alert_notifications n join ops.alerts a using (alert_id) where rule_id = 'test_flapping'),
  1::bigint, 'one notification, not one a minute');

-- Then clear for good: resolved once, after five minutes.
select ops.evaluate_alerts((select t0 from clock) + make_interval(mins => m), '{"test_metric": 9}')
from generate_series(20, 40) m;
select is((select resolved_at from ops.alerts where rule_id = 'test_flapping'),
  (select t0 + interval '24 minutes' from clock), 'resolved once the metric stayed clear for five minutes');
-- An unknown value (null) neither fires nor resolves.
select ops.evaluate_alerts((select t0 from clock) + interval '41 minutes', '{"test_metric": null}');
select is((select count(*) from ops.alerts where rule_id = 'test_flapping'), 1::bigint, 'an unknown value changes nothing');

select * from finish();
rollback;
