begin;
select plan(3);

select private.register_user('00000000-0000-4000-8000-00000000c001', 'ref-a@example.test', '$scrypt$x', '2222DDDD', null,
  gen_random_uuid(), repeat('d', 64), 60);
select private.register_user('00000000-0000-4000-8000-00000000c002', 'ref-b@example.test', '$scrypt$x', '2222EEEE', '2222DDDD',
  gen_random_uuid(), repeat('e', 64), 60);

select is((select referrer_id from public.users where user_id = '00000000-0000-4000-8000-00000000c002'),
  '00000000-0000-4000-8000-00000000c001'::uuid, 'the referral code resolved to the referrer');
select throws_ok($$update public.users set referrer_id = null where user_id = '00000000-0000-4000-8000-00000000c002'$$,
  'AU403', null, 'the referrer cannot be changed, even by the database owner');
select lives_ok($$update public.users set vip_level = 1 where user_id = '00000000-0000-4000-8000-00000000c002'$$,
  'other projected columns can still change');

select * from finish();
rollback;
