begin;
select plan(10);

-- Buyer under an upline; 100,000 at 1% a day for 10 days (10,000 over 240 periods); 24 periods
-- accrued (floor(10000 x 24 / 240) = 1,000), commission 15,200 (level 1 at VIP 10: 15.2%) released.
create temp table t as
select test_support.chain(2) as c, test_support.package(100000, 100, 10) as p,
       date_trunc('hour', greatest(now(), coalesce(money.earnings_watermark(), now()))) + interval '1 day 10 minutes' as bought_at;
select test_support.set_vip((select c[1] from t), 10);
create temp table b as select test_support.buy(c[2], p, bought_at) as purchase_id from t;
create temp table k as select * from public.contracts where user_id = (select c[2] from t);
select money.accrue_due_earnings((select starts_at + interval '24 hours' from k), 1000);
select money.release_due_commissions(now() + interval '1 year');

select is(money.handle_stripe_event('evt_dp_created', 'charge.dispute.created',
  jsonb_build_object('kind', 'dispute', 'paymentIntentId', 'pi_test_' || (select purchase_id from b), 'disputeId', 'dp_1', 'currency', 'usd')) ->> 'outcome',
  'disputed', 'the dispute takes the purchase back');
select is((select available_minor || '/' || earned_minor from public.user_accounts where user_id = (select c[2] from t)),
  '0/0', 'with the earnings paid on it');
-- 24 more periods pass while the contract is stopped.
select money.accrue_due_earnings((select starts_at + interval '48 hours' from k), 1000);

select is(money.handle_stripe_event('evt_dp_won', 'charge.dispute.closed',
  jsonb_build_object('kind', 'dispute_won', 'paymentIntentId', 'pi_test_' || (select purchase_id from b), 'disputeId', 'dp_1', 'currency', 'usd')) ->> 'outcome',
  'dispute_won', 'a won dispute is applied');
select is((select status || '/' || refunded_minor from public.purchases where purchase_id = (select purchase_id from b)),
  'paid/0', 'the purchase stands again');
select is((select available_minor from public.user_accounts where user_id = (select c[1] from t)), 15200::bigint,
  'the upline''s commission is restored');
-- floor(10000 x 48 / 240) = 2,000: the 1,000 clawed back and the 1,000 of the periods missed while stopped.
select is((select available_minor || '/' || earned_minor from public.user_accounts where user_id = (select c[2] from t)),
  '2000/2000', 'the buyer''s earnings come back, with the periods the contract missed');
select is((select status from public.contracts where contract_id = (select contract_id from k)), 'active', 'the contract resumes');

select is(money.handle_stripe_event('evt_dp_won_again', 'charge.dispute.closed',
  jsonb_build_object('kind', 'dispute_won', 'paymentIntentId', 'pi_test_' || (select purchase_id from b), 'disputeId', 'dp_1', 'currency', 'usd')) ->> 'outcome',
  'no_change', 'a second won event for the same dispute changes nothing');
select is_empty('select * from test_support.ledger_violations()', 'the ledger balances');
select is_empty('select * from projections.verify_rebuild()', 'rebuilding gives the same rows');

select * from finish();
rollback;
