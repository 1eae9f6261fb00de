begin;
select plan(4);

select private.register_user('00000000-0000-4000-8000-000000003001', 'boss@example.test', '$scrypt$x', '2222SSSS', null,
  gen_random_uuid(), repeat('d', 64), 60);

select is((select role from private.credentials where user_id = '00000000-0000-4000-8000-000000003001'), 'user',
  'signup makes a user');
select is(private.promote_to_admin(' Boss@Example.TEST '), '00000000-0000-4000-8000-000000003001'::uuid,
  'promotion finds the user by normalised email');
select is((select private.account_json('00000000-0000-4000-8000-000000003001') ->> 'role'), 'admin', 'the account now says admin');
select throws_ok($$select private.promote_to_admin('nobody@example.test')$$, 'AU404', null, 'an unknown email is AU404');

select * from finish();
rollback;
