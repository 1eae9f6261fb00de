begin;
select plan(2);

select private.register_user('00000000-0000-4000-8000-000000002001', 'expired@example.test', '$scrypt$x', '2222RRRR', null,
  '00000000-0000-4000-8000-0000000020f1', repeat('b', 64), 60);
update private.refresh_tokens set issued_at = now() - interval '2 hours', expires_at = now() - interval '1 hour'
where token_sha256 = repeat('b', 64);

select is((select private.rotate_refresh_token(repeat('b', 64), repeat('c', 64), 60) ->> 'outcome'),
  'expired', 'an expired token does not rotate');
select is((select count(*)::int from private.refresh_tokens where family_id = '00000000-0000-4000-8000-0000000020f1'),
  1, 'and no new token was issued');

select * from finish();
rollback;
