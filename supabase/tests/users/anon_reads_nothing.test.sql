begin;
select plan(3);

select private.register_user('00000000-0000-4000-8000-00000000b001', 'anon-a@example.test', '$scrypt$x', '2222CCCC', null,
  gen_random_uuid(), repeat('c', 64), 60);

set local role anon;
select throws_ok($$select * from public.users$$, '42501', null, 'anon may not read public.users at all');
select throws_ok($$select * from private.profiles$$, '42501', null, 'anon may not read the private schema');
reset role;

set local role authenticated;
set local request.jwt.claims = '{"sub":"00000000-0000-4000-8000-00000000b001","role":"authenticated"}';
select throws_ok($$select email from private.profiles$$, '42501', null, 'a signed-in user cannot read private data directly');

select * from finish();
rollback;
