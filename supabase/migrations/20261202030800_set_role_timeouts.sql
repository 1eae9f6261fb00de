-- Statement and lock timeouts for the roles clients and analysts use, so a runaway query cannot hold the
-- money tables. Supabase's REST API runs client requests as anon / authenticated: 3 s and 8 s (Supabase's
-- own defaults, made explicit here) and a 2 s lock wait. The functions connect as the owner; their pool
-- sets its limits per session (_shared/infra/db.ts: 30 s, 15 s lock wait). pg_cron's jobs and migrations
-- keep the owner's unlimited defaults (an earnings run over a million contracts takes seconds).
alter role anon set statement_timeout = '3s';
alter role anon set lock_timeout = '2s';
alter role authenticated set statement_timeout = '8s';
alter role authenticated set lock_timeout = '2s';

-- Role settings apply to the role one logs in as, not to roles granted to it, so a setting on analyst
-- would never reach an analyst's login. Adding an analyst goes through this: the grant, and the limits
-- on the login itself (60 s a statement: analytics views over big tables; 1 s lock wait; read only).
create function private.add_analyst(p_login text) returns void
language plpgsql as $$
begin
  if not exists (select from pg_roles where rolname = p_login and rolcanlogin) then
    raise exception 'no login role %', p_login using errcode = '22023';
  end if;
  execute format('grant analyst to %I', p_login);
  execute format('alter role %I set statement_timeout = %L', p_login, '60s');
  execute format('alter role %I set lock_timeout = %L', p_login, '1s');
  execute format('alter role %I set idle_in_transaction_session_timeout = %L', p_login, '5min');
  execute format('alter role %I set default_transaction_read_only = on', p_login);
end;
$$;
comment on function private.add_analyst(text) is 'Make an existing login an analyst: grant analyst, and set its statement (60 s) and lock (1 s) timeouts and read-only default on the login.';
revoke all on function private.add_analyst(text) from public;
