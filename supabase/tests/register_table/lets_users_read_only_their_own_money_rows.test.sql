begin;
select plan(10);

-- Two users with money rows: a referrer (commissions, a withdrawal) and a buyer (purchase, contract).
create temp table t as select test_support.register() as a;
select test_support.fund((select a from t));
select test_support.approve_kyc((select a from t));
select money.request_withdrawal(gen_random_uuid(), (select a from t), 2000, 'USD', 'IBAN');
grant select on t to authenticated, anon;

set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', (select a from t), 'role', 'authenticated')::text, true);
select ok((select count(*) from public.user_accounts) = 1 and (select count(*) from public.user_accounts where user_id <> (select a from t)) = 0,
  'user_accounts: only my row');
select ok((select count(*) from public.ledger_entries) > 0 and (select count(*) from public.ledger_entries where user_id <> (select a from t)) = 0,
  'ledger_entries: only my entries');
select throws_ok('select count(*) from public.commissions', '42501', null,
  'commissions: no rows at all (they name downline purchases; totals and ledger lines say what I earn)');
select ok((select count(*) from public.withdrawals) = 1, 'withdrawals: only mine');
select is((select count(*) from public.purchases), 0::bigint, 'purchases: none of the buyer''s');
select is((select count(*) from public.contracts), 0::bigint, 'contracts: none of the buyer''s');
select throws_ok('insert into public.user_accounts (user_id, currency) values (gen_random_uuid(), ''USD'')', '42501', null,
  'no writes through the API');

reset role;
set local role anon;
select set_config('request.jwt.claims', '{"role":"anon"}', true);
select throws_ok('select count(*) from public.ledger_entries', '42501', null, 'anon: no ledger');
select throws_ok('select count(*) from public.earnings_periods', '42501', null, 'anon: no earnings periods');
select ok((select count(*) from public.packages where status <> 'active') = 0, 'anon: active packages only');

select * from finish();
rollback;
