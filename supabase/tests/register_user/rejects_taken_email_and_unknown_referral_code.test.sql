begin;
select plan(6);

select lives_ok($$select private.register_user('00000000-0000-4000-8000-00000000e001', 'taken@example.test', '$scrypt$x',
  '2222HHHH', null, gen_random_uuid(), repeat('1', 64), 60)$$, 'a new email registers');
select throws_ok($$select private.register_user('00000000-0000-4000-8000-00000000e002', 'taken@example.test', '$scrypt$x',
  '2222JJJJ', null, gen_random_uuid(), repeat('2', 64), 60)$$, 'AU409', null, 'a taken email is AU409');
select throws_ok($$select private.register_user('00000000-0000-4000-8000-00000000e003', 'new@example.test', '$scrypt$x',
  '2222KKKK', '9999ZZZZ', gen_random_uuid(), repeat('3', 64), 60)$$, 'AU422', null, 'an unknown referral code is AU422');
select throws_ok($$select private.register_user('00000000-0000-4000-8000-00000000e004', 'other@example.test', '$scrypt$x',
  '2222HHHH', null, gen_random_uuid(), repeat('4', 64), 60)$$, 'AU423', null, 'a referral code already in use is AU423');
select throws_ok($$select private.register_user('00000000-0000-4000-8000-00000000e005', 'Mixed@Example.test', '$scrypt$x',
  '2222MMMM', null, gen_random_uuid(), repeat('5', 64), 60)$$, '23514', null, 'an email that is not normalised is refused');
select is((select count(*)::int from event_store.events where stream_id in (
    'user-00000000-0000-4000-8000-00000000e002', 'user-00000000-0000-4000-8000-00000000e003',
    'user-00000000-0000-4000-8000-00000000e004', 'user-00000000-0000-4000-8000-00000000e005')),
  0, 'failed registrations append nothing');

select * from finish();
rollback;
