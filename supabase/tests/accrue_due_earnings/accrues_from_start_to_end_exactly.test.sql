begin;
select plan(5);

-- 9999 x 37 bps x 3 days / 10000 = 110.99..., so the total is 110, over 72 hourly periods.
create temp table t as
select test_support.register() as u, test_support.package(9999, 37, 3) as p,
       date_trunc('hour', greatest(now(), coalesce(money.earnings_watermark(), now()))) + interval '1 day 10 minutes' as bought_at;
select test_support.buy(u, p, bought_at) from t;
create temp table c as select * from public.contracts where user_id = (select u from t);

select is((select total_yield_minor from c), 110::bigint, 'the total is floor(price x rate x days / 10000)');
select money.accrue_due_earnings((select starts_at + interval '59 minutes' from c));
select is((select earned_minor from public.user_accounts where user_id = (select u from t)), 0::bigint,
  'nothing before the first period ends');
select money.accrue_due_earnings((select starts_at + interval '1 hour' from c));
select is((select earned_minor from public.user_accounts where user_id = (select u from t)), 1::bigint,
  'the first period pays floor(110 x 1 / 72) = 1');
select money.accrue_due_earnings((select ends_at + interval '3 hours' from c), 100);
select is((select earned_minor from public.user_accounts where user_id = (select u from t)), 110::bigint,
  'at the end the contract has paid exactly its total');
select is((select count(*) from public.ledger_entries where user_id = (select u from t) and event_type = 'EarningsAccrued'),
  72::bigint, 'in 72 periods, none after the end');

select * from finish();
rollback;
