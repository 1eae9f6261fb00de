begin;
select plan(5);

-- An upline whose released commissions are gathered for the day's digest.
create temp table t as select test_support.chain(1) as c;
select test_support.fund((select c[1] from t));
select ok((select commissions >= 1 and amount_minor > 0 from notify.commission_digest_days
           where user_id = (select c[1] from t) and day = (now() at time zone 'UTC')::date), 'the release is gathered for today');

-- The day is over: one digest, however often the job runs.
select ok(notify.enqueue_commission_digests((now() at time zone 'UTC')::date + 1) >= 1, 'digests queued');
select is(notify.enqueue_commission_digests((now() at time zone 'UTC')::date + 1), 0, 'a second run queues nothing');
select is((select count(*)::int from notify.outbox where user_id = (select c[1] from t) and kind = 'commission_digest'), 1,
  'one digest for the day');

-- A user who turned digests off gets none.
create temp table u as select test_support.chain(1) as c;
select notify.set_preference((select c[1] from u), 'commission_digest', false);
select test_support.fund((select c[1] from u));
select notify.enqueue_commission_digests((now() at time zone 'UTC')::date + 1);
select is((select count(*)::int from notify.outbox where user_id = (select c[1] from u) and kind = 'commission_digest'), 0,
  'no digest when turned off');

select * from finish();
rollback;
