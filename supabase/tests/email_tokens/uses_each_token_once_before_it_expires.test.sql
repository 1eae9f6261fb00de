begin;
select plan(9);

create temp table t as select test_support.kyc_user() as u, repeat('a', 64) as sha1, repeat('b', 64) as sha2, repeat('c', 64) as sha3;

select is(private.request_password_reset('nobody-' || gen_random_uuid() || '@example.test', (select sha1 from t), 'tok1', 1800), false,
  'an unknown address: nothing');
select is((select count(*)::int from private.email_tokens where token_sha256 = (select sha1 from t)), 0, 'and nothing stored');

select is(private.request_password_reset((select email from private.profiles where user_id = (select u from t)), (select sha1 from t), 'tok1', 1800),
  true, 'a known address gets a token');
select is((select kind || ':' || (variables->>'token') from notify.outbox where dedupe_key = 'password_reset:' || (select sha1 from t)),
  'password_reset:tok1', 'and its mail, in the same transaction');

-- A newer reset link replaces the older one.
select private.request_password_reset((select email from private.profiles where user_id = (select u from t)), (select sha2 from t), 'tok2', 1800);
select throws_ok(format($$select private.confirm_password_reset(%L, '$scrypt$new')$$, (select sha1 from t)), 'AU400', null,
  'the older link stopped working');

-- An expired one is refused.
update private.email_tokens set expires_at = now() - interval '1 second', created_at = now() - interval '31 minutes'
where token_sha256 = (select sha2 from t);
select throws_ok(format($$select private.confirm_password_reset(%L, '$scrypt$new')$$, (select sha2 from t)), 'AU400', null,
  'an expired link is refused');

select private.request_password_reset((select email from private.profiles where user_id = (select u from t)), (select sha3 from t), 'tok3', 1800);
select is(private.confirm_password_reset((select sha3 from t), '$scrypt$new'), (select u from t), 'a live link resets the password');
select is((select count(*)::int from private.refresh_token_families where user_id = (select u from t) and revoked_at is null), 0,
  'every session ended');
select throws_ok(format($$select private.confirm_password_reset(%L, '$scrypt$again')$$, (select sha3 from t)), 'AU400', null,
  'a used link is refused');

select * from finish();
rollback;
