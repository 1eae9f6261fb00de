begin;
select plan(8);

-- 100,000 at 1% a day for 10 days: 10,000 of yield over 240 periods. After 72 periods:
-- floor(10000 x 72 / 240) = 3,000 accrued.
create temp table t as
select test_support.register() as u, test_support.package(100000, 100, 10) as p,
       date_trunc('hour', greatest(now(), coalesce(money.earnings_watermark(), now()))) + interval '1 day 10 minutes' as bought_at;
create temp table b as select test_support.buy(u, p, bought_at) as purchase_id from t;
create temp table c as select * from public.contracts where user_id = (select u from t);
select money.accrue_due_earnings((select starts_at + interval '72 hours' from c), 1000);
select is((select available_minor from public.user_accounts where user_id = (select u from t)), 3000::bigint,
  'the contract paid 3,000 in 72 periods');

-- A quarter refunded: floor(3000 x 25000 / 100000) = 750 clawed back from available.
select money.refund_purchase('pi_test_' || (select purchase_id from b), 25000, 'usd', 'refund', 'evt_claw_1');
select is((select available_minor || '/' || owed_minor || '/' || earned_minor from public.user_accounts
           where user_id = (select u from t)), '2250/0/2250', 'a partial refund claws back earnings in proportion');

-- The buyer withdraws 2,000 and is paid, leaving 250.
create temp table w as select gen_random_uuid() as id, test_support.admin() as admin_id;
select test_support.approve_kyc((select u from t));
select money.request_withdrawal((select id from w), (select u from t), 2000, 'USD', 'IBAN DE00');
select money.decide_withdrawal((select id from w), (select admin_id from w), 'approve');
select money.decide_withdrawal((select id from w), (select admin_id from w), 'mark_paid', 'payout-1');

-- The rest refunded: the remaining 2,250 is clawed back, 250 from available and 2,000 owed.
select money.refund_purchase('pi_test_' || (select purchase_id from b), 100000, 'usd', 'refund', 'evt_claw_2');
select is((select available_minor || '/' || owed_minor || '/' || earned_minor from public.user_accounts
           where user_id = (select u from t)), '0/-2000/0', 'a full refund claws back every unit, the rest owed');
select is((select sum((data ->> 'amountMinor')::bigint) from event_store.events
           where type = 'EarningsReversed' and data ->> 'contractId' = (select contract_id::text from c)),
  3000::numeric, 'by EarningsReversed events that total what was paid');
select is((select earnings_reversed_minor from public.contracts where contract_id = (select contract_id from c)),
  3000::bigint, 'the contract records what was clawed back');
-- A redelivery, or a later dispute of a fully refunded purchase, takes nothing more.
select is(money.refund_purchase('pi_test_' || (select purchase_id from b), 100000, 'usd', 'refund', 'evt_claw_3'),
  'no_change', 'a repeated refund changes nothing');
select is_empty('select * from test_support.ledger_violations()', 'the ledger balances');
select is_empty('select * from projections.verify_rebuild()', 'rebuilding gives the same rows');

select * from finish();
rollback;
