begin;
select plan(3);

create temp table t as select test_support.admin() as a;
select ok(notify.enqueue_admin_alert('earnings-lag:1', 'critical', 'Earnings lag', 'fired', 'Two hours behind.') >= 1,
  'queued for the admins');
select is((select count(*)::int from notify.outbox where kind = 'admin_alert' and user_id = (select a from t)
           and dedupe_key = 'admin_alert:earnings-lag:1:' || (select a from t)), 1, 'one mail to this admin');
select is(notify.enqueue_admin_alert('earnings-lag:1', 'critical', 'Earnings lag', 'fired', 'Two hours behind.'), 0,
  'the same alert key queues nothing again');

select * from finish();
rollback;
