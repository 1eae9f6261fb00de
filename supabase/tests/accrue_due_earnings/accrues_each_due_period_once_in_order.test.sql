begin;
select plan(6);

-- Times a day ahead of every real period, so the test owns them; everything rolls back.
create temp table t as
select test_support.register() as u, test_support.package(240000, 100, 2) as p,
       date_trunc('hour', greatest(now(), coalesce(money.earnings_watermark(), now()))) + interval '1 day 30 minutes' as bought_at;
select test_support.buy(u, p, bought_at) from t;
create temp table c as select * from public.contracts where user_id = (select u from t);

select is((select starts_at from c), (select date_trunc('hour', bought_at) + interval '1 hour' from t),
  'a contract starts at the next full hour');
-- Five hours after the start, after a "downtime" with no run at all.
select money.accrue_due_earnings((select starts_at + interval '5 hours' from c));
-- 240,000 at 1% a day for 2 days: 4,800 of yield over 48 periods; after 5, floor(4800 x 5 / 48) = 500.
select is((select earned_minor from public.user_accounts where user_id = (select u from t)),
  500::bigint, 'five periods are accrued');
select results_eq(
  $$select (data ->> 'periodStartsAt')::timestamptz from event_store.events
    where type = 'EarningsAccrued' and (data ->> 'periodStartsAt')::timestamptz >= (select starts_at from c)
    order by position$$,
  $$select (select starts_at from c) + make_interval(hours => h) from generate_series(0, 4) h$$,
  'caught up as five separate periods, in order');
select is((select count(*) from public.ledger_entries where user_id = (select u from t) and event_type = 'EarningsAccrued'),
  5::bigint, 'one ledger entry per user per period');
select is(money.accrue_due_earnings((select starts_at + interval '5 hours' from c)) ->> 'periods', '0',
  'a second run accrues nothing');
select throws_ok(
  $$select event_store.append_events('earnings-' || to_char((select starts_at from c) at time zone 'UTC', 'YYYY-MM-DD"T"HH24'),
    'no_stream', '[{"type":"EarningsAccrued","data":{}}]')$$,
  'ES409', null, 'a period''s stream cannot take a second accrual');

select * from finish();
rollback;
