begin;
select plan(5);

create function pg_temp.settings(p_role text) returns text[] language sql as $$
  select setconfig from pg_db_role_setting where setrole = p_role::regrole and setdatabase = 0
$$;

select ok(pg_temp.settings('anon') @> array['statement_timeout=3s', 'lock_timeout=2s'], 'anon: 3 s, 2 s lock wait');
select ok(pg_temp.settings('authenticated') @> array['statement_timeout=8s', 'lock_timeout=2s'],
  'authenticated: 8 s, 2 s lock wait');

create role test_analyst_login login;
select private.add_analyst('test_analyst_login');
select ok(pg_has_role('test_analyst_login', 'analyst', 'member'), 'the login is an analyst');
select ok(pg_temp.settings('test_analyst_login') @> array['statement_timeout=60s', 'lock_timeout=1s',
  'default_transaction_read_only=on'], 'with the limits on the login itself');
select throws_ok($$select private.add_analyst('no_such_login_here')$$, '22023', null, 'only an existing login');

select * from finish();
rollback;
