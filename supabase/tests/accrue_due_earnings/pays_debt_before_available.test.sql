begin;
select plan(4);

-- A holds a 100,000 contract (10,000 over 240 periods: 1,000 a day) and owes 8,000 after a clawback.
create temp table t as
select test_support.chain(2) as c, test_support.package(100000, 100, 10) as p,
       date_trunc('hour', greatest(now(), coalesce(money.earnings_watermark(), now()))) + interval '1 day 10 minutes' as bought_at;
select test_support.buy(c[1], p, bought_at) from t;
create temp table b as select test_support.buy(c[2], p, bought_at) as purchase_id from t;
select money.release_due_commissions(now() + interval '1 year');
select test_support.approve_kyc((select c[1] from t));
select money.request_withdrawal(gen_random_uuid(), (select c[1] from t), 8000, 'USD', 'IBAN DE00');
select money.refund_purchase('pi_test_' || (select purchase_id from b), 100000, 'usd', 'refund', 'evt_debt');
select is((select available_minor || '/' || owed_minor from public.user_accounts where user_id = (select c[1] from t)),
  '0/-8000', 'A owes 8,000');

select money.accrue_due_earnings((select starts_at + interval '24 hours' from public.contracts where user_id = (select c[1] from t)), 1000);
select is((select available_minor || '/' || owed_minor || '/' || earned_minor from public.user_accounts
           where user_id = (select c[1] from t)), '0/-7000/1000', 'a day of earnings pays the debt down first');
select is((select string_agg(distinct account, ',') from public.ledger_entries
           where user_id = (select c[1] from t) and event_type = 'EarningsAccrued'), 'user:owed',
  'the earnings lines show the debt paid');
select is_empty('select * from projections.verify_rebuild()', 'rebuilding gives the same rows');

select * from finish();
rollback;
