-- Functions start closed. PostgreSQL gives EXECUTE on every new function to PUBLIC, and Supabase's default
-- privileges give functions in public to anon and authenticated as well; until now only the missing schema
-- USAGE kept anon from money.decide_withdrawal or event_store.append_events, so one future
-- `grant usage` would have opened them. Neither anon nor authenticated needs any function of ours (their
-- RLS policies call only Supabase's auth.uid()); the analyst gets the one its views need
-- (analytics.contract_accrued_minor, granted where it is created). The backend connects as the owner.
--
-- Which functions: every routine the migration role owns, outside the schemas Supabase and extensions
-- manage, and not part of an extension. supabase/tests/function_privileges lists what each API role
-- may execute and fails on anything new.
do $$
declare
  r record;
begin
  for r in
    select p.oid::regprocedure as routine
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where p.proowner = current_user::regrole
      and n.nspname not in ('pg_catalog', 'information_schema', 'auth', 'extensions', 'cron', 'storage', 'graphql',
                            'graphql_public', 'realtime', 'vault', 'pgsodium', 'pgsodium_masks', 'net',
                            'supabase_functions', 'pgbouncer')
      and n.nspname not like 'pg\_%'
      and not exists (select from pg_depend d
                      where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
  loop
    execute format('revoke execute on routine %s from public, anon, authenticated, analyst', r.routine);
  end loop;
end $$;

-- New functions of the migration role start closed everywhere (only a global default can take PUBLIC's
-- EXECUTE away), and Supabase's per-schema default grants to the API roles in public are taken back.
alter default privileges revoke execute on routines from public;
alter default privileges in schema public revoke execute on routines from anon, authenticated;
