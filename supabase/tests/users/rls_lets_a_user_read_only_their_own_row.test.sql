begin;
select plan(5);

select private.register_user('00000000-0000-4000-8000-00000000a001', 'rls-a@example.test', '$scrypt$x', '2222AAAA', null,
  gen_random_uuid(), repeat('a', 64), 60);
select private.register_user('00000000-0000-4000-8000-00000000a002', 'rls-b@example.test', '$scrypt$x', '2222BBBB', null,
  gen_random_uuid(), repeat('b', 64), 60);

set local role authenticated;
set local request.jwt.claims = '{"sub":"00000000-0000-4000-8000-00000000a001","role":"authenticated"}';

select results_eq($$select user_id from public.users$$,
  $$values ('00000000-0000-4000-8000-00000000a001'::uuid)$$,
  'a signed-in user sees exactly their own row');
select is_empty($$select 1 from public.users where user_id = '00000000-0000-4000-8000-00000000a002'$$,
  'another user''s row is invisible, even asked for by id');
select throws_ok($$update public.users set vip_level = 10 where user_id = '00000000-0000-4000-8000-00000000a001'$$,
  '42501', null, 'users cannot write their row');

set local request.jwt.claims = '{"sub":"00000000-0000-4000-8000-00000000a002","role":"authenticated"}';
select results_eq($$select referral_code from public.users$$, $$values ('2222BBBB'::text)$$,
  'the other user sees only theirs');

set local request.jwt.claims = '{"role":"authenticated"}';
select is_empty($$select 1 from public.users$$, 'a token without a subject sees nothing');

select * from finish();
rollback;
