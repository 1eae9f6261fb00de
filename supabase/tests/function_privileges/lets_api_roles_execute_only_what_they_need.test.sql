begin;
select plan(6);

-- Every function the API roles and the analyst may execute, outside PostgreSQL's own catalog and
-- extensions (pgTAP's and test_support's are test tooling). auth.* is Supabase's (locally devstack/bootstrap.sql);
-- RLS policies call auth.uid(). Anything new here must be added on purpose.
create temp view executable as
  select r.rolname::text as role_name, p.oid::regprocedure::text as routine
  from pg_proc p
  join pg_namespace n on n.oid = p.pronamespace
  cross join (values ('anon'), ('authenticated'), ('analyst')) as r(rolname)
  where n.nspname not in ('pg_catalog', 'information_schema', 'test_support')
    and not exists (select from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
    and has_function_privilege(r.rolname, p.oid, 'execute');

select set_eq('select role_name, routine from executable', $$values
  ('anon', 'auth.jwt()'), ('anon', 'auth.role()'), ('anon', 'auth.uid()'),
  ('authenticated', 'auth.jwt()'), ('authenticated', 'auth.role()'), ('authenticated', 'auth.uid()'),
  ('analyst', 'auth.jwt()'), ('analyst', 'auth.role()'), ('analyst', 'auth.uid()'),
  ('analyst', 'analytics.contract_accrued_minor(bigint,timestamp with time zone,timestamp with time zone,integer,integer)')
$$, 'anon, authenticated and analyst execute exactly these functions');

-- A function a later migration creates starts closed, in a project schema and in public.
create function money.created_by_a_later_migration() returns int language sql as 'select 1';
create function public.created_by_a_later_migration() returns int language sql as 'select 1';
select ok(not has_function_privilege('anon', 'money.created_by_a_later_migration()', 'execute')
  and not has_function_privilege('authenticated', 'money.created_by_a_later_migration()', 'execute'),
  'a new money function is closed to the API roles');
select ok(not has_function_privilege('anon', 'public.created_by_a_later_migration()', 'execute')
  and not has_function_privilege('authenticated', 'public.created_by_a_later_migration()', 'execute'),
  'so is a new function in public');

-- Schema usage alone no longer opens anything (as if a later migration granted it by mistake).
grant usage on schema money, event_store to anon;
grant usage on schema extensions to anon; -- pgTAP, for the assertions below
set local role anon;
select throws_ok($$select money.decide_withdrawal(gen_random_uuid(), gen_random_uuid(), 'approve')$$, '42501', null,
  'anon with money usage still cannot decide a withdrawal');
select throws_ok($$select event_store.append_events('x', 'any', '[]')$$, '42501', null,
  'nor append events');
select throws_ok($$select money.created_by_a_later_migration()$$, '42501', null, 'nor call a new function');
reset role;

select * from finish();
rollback;
