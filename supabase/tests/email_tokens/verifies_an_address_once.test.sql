begin;
select plan(5);

create temp table t as select test_support.kyc_user() as u, repeat('d', 64) as sha1;
select is((select account ->> 'emailVerified' from (select private.account_json((select u from t)) as account) a), 'false', 'not verified');
select is(private.request_email_verification((select u from t), (select sha1 from t), 'tok', 3600), true, 'a link is mailed');
select is(private.verify_email((select sha1 from t)), (select u from t), 'the link verifies');
select is((select count(*)::int from event_store.events where stream_id = 'user-' || (select u from t) and type = 'EmailVerified'), 1,
  'one EmailVerified event');
select is(private.request_email_verification((select u from t), repeat('e', 64), 'tok2', 3600), false,
  'a verified address gets no new link');

select * from finish();
rollback;
