begin;
select plan(14);

-- Every relation and column the API roles may read directly, outside PostgreSQL's catalog and extensions'
-- own relations. A new table or column exposed to clients fails here until it is added on purpose.
create temp view readable as
  select r.rolname::text as role_name, c.oid::regclass::text as relation,
         array_agg(a.attname::text order by a.attname) as columns
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
  join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  cross join (values ('anon'), ('authenticated')) as r(rolname)
  where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\_%' -- also temp tables
    and c.relkind in ('r', 'v', 'm', 'p', 'f')
    and not exists (select from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
    and has_column_privilege(r.rolname, c.oid, a.attnum, 'select')
  group by 1, 2;

select set_eq('select role_name, relation, columns from readable', $$values
  ('anon', 'packages', '{currency,daily_rate_bps,duration_days,name,package_id,price_minor,published_at,retired_at,status}'::text[]),
  ('authenticated', 'packages', '{currency,daily_rate_bps,duration_days,name,package_id,price_minor,published_at,retired_at,status}'),
  ('authenticated', 'users', '{kyc_status,referral_code,referrer_id,registered_at,user_id,vip_level}'),
  ('authenticated', 'kyc_cases', '{case_id,decided_at,document_count,final,status,submitted_at,submitted_position,user_id,version}'),
  ('authenticated', 'network_levels', '{level,members,user_id,volume_minor}'),
  ('authenticated', 'user_volumes', '{direct_referrals,personal_volume_minor,team_volume_minor,user_id}'),
  ('authenticated', 'user_accounts', '{available_minor,commission_minor,currency,earned_minor,held_minor,in_transit_minor,owed_minor,pending_minor,user_id,withdrawn_minor}'),
  ('authenticated', 'ledger_entries', '{account,amount_minor,balance_after_minor,balance_before_minor,currency,event_position,event_type,line,recorded_at,reference_id,user_id}'),
  ('authenticated', 'purchases', '{amount_minor,contract_id,created_at,currency,dispute_id,disputed_minor,package_id,paid_at,payment_intent_id,purchase_id,refunded_minor,status,stripe_session_id,user_id}'),
  ('authenticated', 'contracts', '{contract_id,currency,daily_rate_bps,duration_days,earnings_reversed_minor,ends_at,package_id,principal_minor,purchase_id,starts_at,status,stopped_after_periods,stopped_at,total_yield_minor,user_id}'),
  ('authenticated', 'withdrawals', '{amount_minor,currency,decided_at,reference,requested_at,status,user_id,withdrawal_id}')
$$, 'anon and authenticated read exactly these columns');

select is_empty($$
  select r.rolname, c.oid::regclass from pg_class c join pg_namespace n on n.oid = c.relnamespace
  cross join (values ('anon'), ('authenticated')) as r(rolname)
  where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\_%' and c.relkind in ('r', 'v', 'm', 'p', 'f')
    and not exists (select from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
    and (has_table_privilege(r.rolname, c.oid, 'insert, update, delete, truncate, references, trigger')
         or has_any_column_privilege(r.rolname, c.oid, 'insert, update, references'))$$,
  'and write nothing');

-- A referrer with a decided withdrawal and a decided KYC case; their referral earns them a commission.
create temp table t as select test_support.kyc_user() as a, gen_random_uuid() as w;
select test_support.fund((select a from t));
select test_support.approve_kyc((select a from t));
select money.request_withdrawal((select w from t), (select a from t), 2000, 'USD', 'IBAN DE00');
select money.decide_withdrawal((select w from t), test_support.admin(), 'approve');
create temp table k as select (test_support.kyc_submit(test_support.kyc_user()) ->> 'caseId')::uuid as case_id;
select test_support.kyc_decide((select case_id from k), test_support.admin(), 'KycApproved');
create temp table k_owner as select user_id from public.kyc_cases where case_id = (select case_id from k);
grant select on t, k, k_owner to authenticated;

set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', (select a from t), 'role', 'authenticated')::text, true);
select results_eq('select withdrawal_id, status, decided_at is not null from public.withdrawals',
  $$select w, 'approved'::text, true from t$$, 'a user reads their own withdrawal, decided');
select throws_ok('select decided_by from public.withdrawals', '42501', null, 'but not who decided it');
select throws_ok('select * from public.withdrawals', '42501', null, 'so select * is refused there');
select ok((select count(*) from public.ledger_entries where event_type = 'CommissionAccrued') > 0,
  'their commission shows in their ledger, as GET /account/ledger shows it');
select ok((select commission_minor > 0 from public.user_accounts), 'and in their totals');
select throws_ok('select count(*) from public.commissions', '42501', null,
  'but no commission rows: no downline purchase ids, amounts or times');
select throws_ok('select ancestor_ids from public.referral_uplines', '42501', null, 'and no ancestor ids');
select is((select referrer_id from public.users), null::uuid, 'only their own referrer, on their user row');

select set_config('request.jwt.claims', json_build_object('sub', (select user_id from k_owner), 'role', 'authenticated')::text, true);
select results_eq('select case_id, status from public.kyc_cases', $$select case_id, 'approved'::text from k$$,
  'a user reads their own KYC case, decided');
select throws_ok('select decided_by from public.kyc_cases', '42501', null, 'but not which admin decided it');
reset role;

set local role anon;
select throws_ok('select count(*) from public.withdrawals', '42501', null, 'anon reads no withdrawals');
select ok((select count(*) from public.packages) >= 0, 'anon reads the catalog');
reset role;

select * from finish();
rollback;
