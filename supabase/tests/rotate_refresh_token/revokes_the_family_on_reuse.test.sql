begin;
select plan(6);

select private.register_user('00000000-0000-4000-8000-000000001001', 'rotate@example.test', '$scrypt$x', '2222QQQQ', null,
  '00000000-0000-4000-8000-0000000010f1', repeat('a', 63) || '1', 60);

select is((select private.rotate_refresh_token(repeat('a', 63) || '1', repeat('a', 63) || '2', 60) ->> 'outcome'),
  'rotated', 'a fresh token rotates');
select is((select private.rotate_refresh_token(repeat('a', 63) || '2', repeat('a', 63) || '3', 60) ->> 'outcome'),
  'rotated', 'its successor rotates');
select is((select private.rotate_refresh_token(repeat('a', 63) || '1', repeat('a', 63) || '4', 60) ->> 'outcome'),
  'reused', 'presenting a spent token is reuse');
select is((select revoked_reason from private.refresh_token_families where family_id = '00000000-0000-4000-8000-0000000010f1'),
  'reuse', 'reuse revokes the family');
select is((select private.rotate_refresh_token(repeat('a', 63) || '3', repeat('a', 63) || '5', 60) ->> 'outcome'),
  'revoked', 'the newest token of a revoked family is refused');
select is((select private.rotate_refresh_token(repeat('9', 64), repeat('a', 63) || '6', 60) ->> 'outcome'),
  'invalid', 'a token never issued is invalid');

select * from finish();
rollback;
