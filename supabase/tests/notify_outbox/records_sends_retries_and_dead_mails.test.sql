begin;
select plan(9);

create temp table t as select gen_random_uuid() as u;
insert into private.profiles (user_id, email) select u, 'results-' || u || '@example.test' from t;
update notify.outbox set next_attempt_at = now() + interval '1 day' where status in ('queued', 'sending');
select notify.enqueue('r:' || u, 'password_reset', u, '{"token": "secret-token"}') from t;
create temp table m as select id from notify.outbox where dedupe_key = (select 'r:' || u from t);

-- 500: queued again after 15-30 s (attempt 1 of the backoff), the error kept.
select notify.claim_mails(10, 60, 3);
select notify.record_mail_results(jsonb_build_array(jsonb_build_object('id', (select id from m), 'ok', false, 'error', '500 internal')), 3);
select ok((select status = 'queued' and next_attempt_at between now() + interval '15 seconds' and now() + interval '30 seconds'
           and last_error = '500 internal' and variables ? 'token' from notify.outbox where id = (select id from m)),
  'a 5xx is retried after the backoff, the token kept for the retry');

-- 429 with Retry-After 120: not before two minutes.
update notify.outbox set next_attempt_at = now() where id = (select id from m);
select notify.claim_mails(10, 60, 3);
select notify.record_mail_results(jsonb_build_array(jsonb_build_object('id', (select id from m), 'ok', false, 'error', '429', 'retryAfterSeconds', 120)), 3);
select ok((select next_attempt_at >= now() + interval '120 seconds' and next_attempt_at <= now() + interval '133 seconds'
           from notify.outbox where id = (select id from m)), '429 waits for Retry-After');

-- Third attempt fails: out of attempts, dead, the secret dropped.
update notify.outbox set next_attempt_at = now() where id = (select id from m);
select is((select attempts from notify.claim_mails(10, 60, 3)), 3, 'the third attempt');
select notify.record_mail_results(jsonb_build_array(jsonb_build_object('id', (select id from m), 'ok', false, 'error', '503')), 3);
select is((select status || ':' || (variables ? 'token')::text from notify.outbox where id = (select id from m)), 'dead:false',
  'dead after the last attempt, without its secret');
select is((select count(*)::int from admin.mail_outbox where id = (select id from m) and status = 'dead'), 1, 'admins see it');

-- Re-drive: queued with a fresh budget; then sent.
select is(notify.redrive_mails(array[(select id from m)]), 1, 're-driven');
select notify.claim_mails(10, 60, 3);
select is(notify.record_mail_results(jsonb_build_array(jsonb_build_object('id', (select id from m), 'ok', true, 'providerId', 'p1')), 3), 1, 'recorded');
select is((select status || ':' || provider_message_id from notify.outbox where id = (select id from m)), 'sent:p1', 'sent');
select is(notify.record_mail_results(jsonb_build_array(jsonb_build_object('id', (select id from m), 'ok', false, 'error', 'late')), 3), 0,
  'a late result for a settled mail changes nothing');

select * from finish();
rollback;
