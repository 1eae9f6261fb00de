begin;
select plan(4);

create temp table t as select test_support.chain(2) as c, test_support.package(10000, 100, 30) as p;
select test_support.set_vip((select c[1] from t), 10);
create temp table b as select test_support.buy((select c[2] from t), (select p from t)) as purchase_id;
select money.release_due_commissions(now() + interval '1 year');
-- Level 1 at VIP 10: 15.2% of 10,000.
select is((select available_minor from public.user_accounts where user_id = (select c[1] from t)), 1520::bigint,
  'after the hold the commission is available');
-- The upline spends 500 of it (as a paid withdrawal would), leaving 1,020 available.
select event_store.append_events('test-spend-' || gen_random_uuid(), 'no_stream', '[{"type":"TestBalanceSpent","data":{}}]');
select projections.post_entries(e, null, array['available', 'payouts'], array[-500, 500]::bigint[],
  array[(select c[1] from t), null]::uuid[])
from event_store.events e where e.type = 'TestBalanceSpent' order by position desc limit 1;
select money.refund_purchase('pi_test_' || (select purchase_id from b), 10000, 'usd', 'refund', 'evt_late');
select is((select available_minor from public.user_accounts where user_id = (select c[1] from t)), 0::bigint,
  'the clawback takes what is available');
select is((select owed_minor from public.user_accounts where user_id = (select c[1] from t)), -500::bigint,
  'and records the rest as owed');
select is((select count(*) from public.ledger_entries where user_id = (select c[1] from t) and amount_minor < 0
           and event_type = 'CommissionReversed'), 2::bigint, 'with negative entries, never an edit');

select * from finish();
rollback;
