begin;
select plan(2);
-- Hand-made rows far in the future (2031), so the days checked hold nothing but them; rolled back.
set local timezone = 'America/New_York'; -- days are UTC whatever the session's zone

create temp table u as select gen_random_uuid() as a, gen_random_uuid() as b, gen_random_uuid() as c;
insert into public.users (user_id, referral_code, registered_at) values
  ((select a from u), test_support.referral_code(), '2031-01-01 10:00Z'),
  ((select b from u), test_support.referral_code(), '2031-01-01 23:59:59Z'),
  ((select c from u), test_support.referral_code(), '2031-01-02 00:00Z');
insert into public.purchases (purchase_id, user_id, package_id, amount_minor, currency, status, stripe_session_id,
                              created_at, paid_at) values
  (gen_random_uuid(), (select a from u), gen_random_uuid(), 1000, 'USD', 'paid', 'cs_' || gen_random_uuid(), '2031-01-02 04:00Z', '2031-01-02 05:00Z'),
  (gen_random_uuid(), (select a from u), gen_random_uuid(), 1000, 'USD', 'paid', 'cs_' || gen_random_uuid(), '2031-01-03 04:00Z', '2031-01-03 05:00Z'),
  (gen_random_uuid(), (select b from u), gen_random_uuid(), 1000, 'USD', 'pending', 'cs_' || gen_random_uuid(), '2031-01-02 04:00Z', null),
  (gen_random_uuid(), (select c from u), gen_random_uuid(), 1000, 'USD', 'refunded', 'cs_' || gen_random_uuid(), '2031-01-03 01:00Z', '2031-01-03 02:00Z');
refresh materialized view analytics.daily_signups;

-- 01-01: a and b sign up; 01-02: c signs up, a's first payment; 01-03: c's first payment (refunded since,
-- still an activation), a's second payment is not one; b never paid.
select results_eq(
  $$select day::text, signups, activations from analytics.daily_signups where day >= '2031-01-01' order by day$$,
  $$values ('2031-01-01', 2::bigint, 0::bigint), ('2031-01-02', 1, 1), ('2031-01-03', 0, 1)$$,
  'signups by registration day, activations by the day of the first paid purchase');
select lives_ok('refresh materialized view concurrently analytics.daily_signups', 'it refreshes concurrently');
select * from finish();
rollback;
