begin;
select plan(6);

-- The other half of "only my rows": a policy that hid every row would pass a test that only checks
-- that others' rows are hidden. The buyer sees exactly their purchase and contract; their referrer
-- sees neither, yet sees their own commission ledger line.
create temp table t as select test_support.register() as referrer;
select test_support.set_vip((select referrer from t), 1);
alter table t add column buyer uuid;
update t set buyer = test_support.register(referrer);
alter table t add column purchase_id uuid;
update t set purchase_id = test_support.buy(buyer, test_support.package(10000, 100, 30));
grant select on t to authenticated;

set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', (select buyer from t), 'role', 'authenticated')::text, true);
select results_eq($$select purchase_id from public.purchases$$, $$select purchase_id from t$$,
  'purchases: the buyer sees exactly their purchase');
select results_eq($$select purchase_id from public.contracts$$, $$select purchase_id from t$$,
  'contracts: the buyer sees exactly their contract');
select results_eq($$select user_id from public.user_accounts$$, $$select buyer from t$$,
  'user_accounts: exactly their own row');

select set_config('request.jwt.claims', json_build_object('sub', (select referrer from t), 'role', 'authenticated')::text, true);
select is_empty($$select 1 from public.purchases$$, 'the referrer does not see the buyer''s purchase');
select is_empty($$select 1 from public.contracts$$, 'nor their contract');
select ok((select count(*) from public.ledger_entries where event_type = 'CommissionAccrued') >= 1
  and (select count(*) from public.ledger_entries where user_id is distinct from (select referrer from t)) = 0,
  'ledger_entries: the referrer sees their commission line and nothing of anyone else');

select * from finish();
rollback;
