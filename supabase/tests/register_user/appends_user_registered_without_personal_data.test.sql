begin;
select plan(4);

select private.register_user('00000000-0000-4000-8000-00000000f001', 'pii@example.test', '$scrypt$x', '2222NNNN', null,
  gen_random_uuid(), repeat('6', 64), 60, '{"requestId":"req-1"}');

select is((select count(*)::int from event_store.events where stream_id = 'user-00000000-0000-4000-8000-00000000f001'),
  1, 'one event on the user''s stream');
select is((select data from event_store.events where stream_id = 'user-00000000-0000-4000-8000-00000000f001'),
  '{"userId":"00000000-0000-4000-8000-00000000f001","referrerId":null,"referralCode":"2222NNNN"}'::jsonb,
  'UserRegistered carries ids and the referral code only');
select ok((select position('pii@' in e::text) = 0 from event_store.events e
           where stream_id = 'user-00000000-0000-4000-8000-00000000f001'), 'the email is nowhere in the event row');
select throws_ok($$select private.register_user('00000000-0000-4000-8000-00000000f001', 'pii-2@example.test', '$scrypt$x',
  '2222PPPP', null, gen_random_uuid(), repeat('7', 64), 60)$$, '23505', null, 'a user id registers once');

select * from finish();
rollback;
