begin;
select plan(6);

-- A contract a day ahead of every real period (the test owns that time; everything rolls back). The
-- earnings job runs until its first period is accrued, then stops for three periods, then catches up.
create temp table t as
select test_support.register() as u, test_support.package(240000, 100, 2) as p,
       date_trunc('hour', greatest(now(), coalesce(money.earnings_watermark(), now()))) + interval '1 day 30 minutes' as bought_at;
select test_support.buy(u, p, bought_at) from t;
create temp table s as select starts_at from public.contracts where user_id = (select u from t);
select money.accrue_due_earnings((select starts_at + interval '1 hour' from s), 10000);

-- pg_cron's minute, every five minutes of the test's clock: evaluate, and from the catch-up on, accrue.
create temp table evaluations as
select step, (select starts_at from s) + interval '1 hour' + make_interval(mins => step * 5) as at
from generate_series(1, 48) step;
do $$
declare
  e record;
begin
  for e in select * from evaluations order by step loop
    if e.at >= (select starts_at + interval '4 hours 10 minutes' from s) then
      perform money.accrue_due_earnings(e.at, 10000);
    end if;
    perform ops.run_alert_evaluation(e.at);
  end loop;
end $$;

select is((select count(*) from ops.alerts where rule_id = 'earnings_lag' and fired_at > now()), 1::bigint,
  'the earnings lag alert fired once');
-- Lag passes 2 h at start + 3 h (first seen above it at +3h05), and has held for 5 minutes at +3h10.
select is((select fired_at from ops.alerts where rule_id = 'earnings_lag' and fired_at > now()),
  (select starts_at + interval '3 hours 10 minutes' from s), 'it fired once the lag had held for the duration');
select is((select severity from ops.alerts where rule_id = 'earnings_lag' and fired_at > now()), 'critical',
  'as critical');
-- Caught up at +4h10; clear for 5 minutes at +4h15.
select is((select resolved_at from ops.alerts where rule_id = 'earnings_lag' and fired_at > now()),
  (select starts_at + interval '4 hours 15 minutes' from s), 'it resolved once after the catch-up');
select results_eq(
  $$select transition from ops.alert_notifications n join ops.alerts a using (alert_id)
    where a.rule_id = 'earnings_lag' and a.fired_at > now() order by n.notification_id$$,
  array['fired', 'resolved'], 'one notification for the fire, one for the resolve');
select is((select count(*) from ops.alerts where rule_id = 'earnings_lag' and resolved_at is null), 0::bigint,
  'nothing is left firing');

select * from finish();
rollback;
