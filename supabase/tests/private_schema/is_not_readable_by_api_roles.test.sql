begin;
select plan(6);

select ok(not has_schema_privilege('anon', 'private', 'usage'), 'anon has no access to private');
select ok(not has_schema_privilege('authenticated', 'private', 'usage'), 'authenticated has no access to private');
select ok(not has_function_privilege('authenticated', 'private.promote_to_admin(text)', 'execute'),
  'authenticated cannot promote anyone');
select ok(not has_function_privilege('anon', 'private.register_user(uuid, text, text, text, text, uuid, text, int, jsonb)', 'execute'),
  'anon cannot call register_user directly');
select ok(not has_table_privilege('anon', 'public.users', 'select'), 'anon cannot select public.users');
select ok(has_table_privilege('authenticated', 'public.users', 'select')
  and not has_table_privilege('authenticated', 'public.users', 'insert')
  and not has_table_privilege('authenticated', 'public.users', 'update'),
  'authenticated may only select public.users (RLS picks the rows)');

select * from finish();
rollback;
