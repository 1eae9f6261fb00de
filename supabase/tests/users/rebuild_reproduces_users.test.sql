begin;
select plan(1);

select private.register_user('00000000-0000-4000-8000-00000000d001', 'rebuild-a@example.test', '$scrypt$x', '2222FFFF', null,
  gen_random_uuid(), repeat('f', 64), 60);
select private.register_user('00000000-0000-4000-8000-00000000d002', 'rebuild-b@example.test', '$scrypt$x', '2222GGGG', '2222FFFF',
  gen_random_uuid(), repeat('0', 64), 60);

select is_empty($$select * from projections.verify_rebuild() where table_name = 'users'$$,
  'rebuilding public.users from UserRegistered events gives the live rows');

select * from finish();
rollback;
