begin;
select plan(9);

create temp table t as select gen_random_uuid() as u, gen_random_uuid() as gone, gen_random_uuid() as bounced;
insert into private.profiles (user_id, email) select u, 'outbox-' || u || '@example.test' from t;
insert into private.profiles (user_id, email) select bounced, 'bounced-' || bounced || '@example.test' from t;
insert into notify.suppressions (email, reason) select 'bounced-' || bounced || '@example.test', 'bounce' from t;
-- Only this test's rows are due: everything else waits.
update notify.outbox set next_attempt_at = now() + interval '1 day' where status in ('queued', 'sending');

select notify.enqueue('t:1:' || u, 'kyc_approved', u, '{}') from t;
select notify.enqueue('t:2:' || gone, 'kyc_approved', gone, '{}') from t;
select notify.enqueue('t:3:' || bounced, 'kyc_approved', bounced, '{}') from t;
insert into notify.preferences (user_id, commission_digest) select u, false from t;
select notify.enqueue('t:4:' || u, 'commission_digest', u, '{"token": "x"}') from t;
select is((select notify.enqueue('t:1:' || u, 'kyc_approved', u, '{}') from t), null, 'a second enqueue with the key is a no-op');

create temp table claimed as select * from notify.claim_mails(10, 60, 8);
select is((select count(*)::int from claimed), 1, 'one mail needs sending');
select is((select email from claimed), (select 'outbox-' || u || '@example.test' from t), 'to the user''s address, read at send time');
select is((select status from notify.outbox where dedupe_key = (select 't:2:' || gone from t)), 'skipped', 'a user without an address: skipped');
select is((select status from notify.outbox where dedupe_key = (select 't:3:' || bounced from t)), 'suppressed', 'a suppressed address: suppressed');
select is((select status || ':' || (variables ? 'token')::text from notify.outbox where dedupe_key = (select 't:4:' || u from t)),
  'skipped:false', 'an optional mail the user turned off: skipped, its secret dropped');
select is((select count(*)::int from notify.claim_mails(10, 60, 8)), 0, 'a leased mail is not claimed again');

-- The lease ends (a drainer died): claimed again, one more attempt counted.
update notify.outbox set next_attempt_at = now() - interval '1 second' where id = (select id from claimed);
select is((select attempts from notify.claim_mails(10, 60, 8)), 2, 'an expired lease is claimed again');
update notify.outbox set next_attempt_at = now() - interval '1 second' where id = (select id from claimed);
select is((select count(*)::int from notify.claim_mails(10, 60, 2)), 0, 'out of attempts: not claimed...');

select * from finish();
rollback;
