begin;
select plan(5);

-- A one-day contract (24 periods) and a five-day one, bought together.
create temp table t as
select test_support.register() as u, test_support.package(50000, 100, 1) as short, test_support.package(50000, 100, 5) as long,
       date_trunc('hour', greatest(now(), coalesce(money.earnings_watermark(), now()))) + interval '1 day' as bought_at;
select test_support.buy(u, short, bought_at), test_support.buy(u, long, bought_at) from t;
create temp table c as select * from public.contracts where user_id = (select u from t);

select money.accrue_due_earnings((select min(ends_at) - interval '1 hour' from c), 1000);
select is((select count(*) from public.contracts where user_id = (select u from t) and status = 'active'), 2::bigint,
  'both contracts are active before the last period of the short one');
select money.accrue_due_earnings((select min(ends_at) from c), 1000);
select is((select status from public.contracts where contract_id = (select contract_id from c where duration_days = 1)),
  'completed', 'the short contract is completed once its last period is accrued');
select is((select status from public.contracts where contract_id = (select contract_id from c where duration_days = 5)),
  'active', 'the long one runs on');
select money.accrue_due_earnings((select max(ends_at) + interval '2 hours' from c), 1000);
-- 50,000 x 100 bps x 1 day / 10000 = 500; x 5 days = 2500: both paid exactly their totals, nothing more.
select is((select earned_minor from public.user_accounts where user_id = (select u from t)), 3000::bigint,
  'a completed contract earned exactly its total');
select is_empty('select * from projections.verify_rebuild()', 'a rebuild completes the same contracts');

select * from finish();
rollback;
