begin;
select plan(9);

-- The review's reproduction: an upline with 8,000 in transit and 8,000 owed receives 4,000 of new
-- credit, tries to withdraw it, and has the earlier 8,000 approved and paid.
create temp table t as select test_support.chain(2) as c, test_support.package(100000, 100, 30) as p,
  gen_random_uuid() as w, test_support.admin() as admin_id;
-- A purchase of their own makes the upline VIP 1 (level 1 commissions), whatever happens below them.
select test_support.buy((select c[1] from t), test_support.package(1000, 100, 30));
create temp table b as select test_support.buy((select c[2] from t), (select p from t)) as purchase_id;
select money.release_due_commissions(now() + interval '1 year');
select test_support.approve_kyc((select c[1] from t));
select money.request_withdrawal((select w from t), (select c[1] from t), 8000, 'USD', 'IBAN DE00');
select money.refund_purchase('pi_test_' || (select purchase_id from b), 100000, 'usd', 'refund', 'evt_owe');
select is((select available_minor || '/' || in_transit_minor || '/' || owed_minor from public.user_accounts
           where user_id = (select c[1] from t)), '0/8000/-8000', '8,000 in transit and 8,000 owed');

-- New credit: a 50,000 purchase under them pays 4,000, released after the hold: it pays the debt first.
select test_support.buy((select c[2] from t), test_support.package(50000, 100, 30));
select money.release_due_commissions(now() + interval '1 year');
select is((select available_minor || '/' || owed_minor from public.user_accounts where user_id = (select c[1] from t)),
  '0/-4000', 'a new credit pays down the debt before anything becomes available');
select is((select string_agg(account || ' ' || amount_minor, ', ' order by line) from public.ledger_entries
           where event_type = 'CommissionReleased' and user_id = (select c[1] from t)
             and event_position = (select max(event_position) from public.ledger_entries where event_type = 'CommissionReleased'
                                   and user_id = (select c[1] from t))),
  'user:pending -4000, user:owed 4000', 'and the ledger shows it');

select throws_ok(format($$select money.request_withdrawal(gen_random_uuid(), %L, 1000, 'USD', 'IBAN DE00')$$, (select c[1] from t)),
  'MO423', null, 'a withdrawal is refused while anything is owed');
select throws_ok(format($$select money.decide_withdrawal(%L, %L, 'approve')$$, (select w from t), (select admin_id from t)),
  'MO412', null, 'a pending withdrawal of an account that owes cannot be approved');

-- The admin rejects it: the 8,000 comes back and pays the remaining 4,000 of debt first.
select money.decide_withdrawal((select w from t), (select admin_id from t), 'reject');
select is((select available_minor || '/' || in_transit_minor || '/' || owed_minor from public.user_accounts
           where user_id = (select c[1] from t)), '4000/0/0', 'a rejection returns the money, paying the debt first');
select lives_ok(format($$select money.request_withdrawal(gen_random_uuid(), %L, 4000, 'USD', 'IBAN DE00')$$, (select c[1] from t)),
  'with the debt paid, withdrawals work again');
select is_empty('select * from test_support.ledger_violations()', 'the ledger balances');
select is_empty('select * from projections.verify_rebuild()', 'rebuilding gives the same rows');

select * from finish();
rollback;
