begin;
select plan(3);

-- A period is accrued by appending to its own stream with expected version no_stream: if anything is
-- already in that stream, the accrual must refuse rather than accrue the period a second time.
create temp table t as
select test_support.register() as u, test_support.package(240000, 100, 2) as p,
       date_trunc('hour', greatest(now(), coalesce(money.earnings_watermark(), now()))) + interval '1 day 30 minutes' as bought_at;
select test_support.buy(u, p, bought_at) from t;
create temp table c as select * from public.contracts where user_id = (select u from t);

-- Something else wrote to the stream of the contract's first period (an event no projection handles).
select event_store.append_events(
  'earnings-' || to_char((select starts_at from c) at time zone 'UTC', 'YYYY-MM-DD"T"HH24'), 'no_stream',
  '[{"type":"ProbeMarker","data":{}}]');

select throws_ok(
  $$select money.accrue_due_earnings((select starts_at + interval '2 hours' from c))$$,
  'ES409', null, 'the accrual refuses a period whose stream already exists');
select is((select earned_minor from public.user_accounts where user_id = (select u from t)), 0::bigint,
  'and credits nothing');
select is_empty($$select 1 from public.earnings_periods where period_starts_at = (select starts_at from c)$$,
  'and records no period');

select * from finish();
rollback;
