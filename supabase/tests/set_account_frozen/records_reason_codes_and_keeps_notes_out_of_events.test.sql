begin;
select plan(11);

create temp table t as select test_support.kyc_user() as u, test_support.kyc_user() as plain, test_support.admin() as a;

select throws_ok($$select money.set_account_frozen((select u from t), (select plain from t), 'freeze', 'other')$$,
  'KY403', null, 'a user who is not an admin freezes nobody');
select throws_ok($$select money.set_account_frozen((select u from t), (select a from t), 'freeze', 'review_cleared')$$,
  'AD422', null, 'an unfreeze reason is not a freeze reason');
select throws_ok($$select money.set_account_frozen((select a from t), (select a from t), 'freeze', 'other')$$,
  'AD403', null, 'nobody freezes their own account');
select throws_ok($$select money.set_account_frozen(gen_random_uuid(), (select a from t), 'freeze', 'other')$$,
  'AD404', null, 'an unknown user cannot be frozen');

select is(money.set_account_frozen((select u from t), (select a from t), 'freeze', 'identity_mismatch',
          'Passport photo belongs to someone else') ->> 'changed', 'true', 'an admin freezes with a code and a note');
select is((select data from event_store.events where stream_id = 'user-' || (select u from t) and type = 'AccountFrozen'),
  jsonb_build_object('userId', (select u from t), 'adminId', (select a from t), 'reason', 'identity_mismatch'),
  'the event carries ids and the reason code only');
select is((select metadata ->> 'actorId' from event_store.events
           where stream_id = 'user-' || (select u from t) and type = 'AccountFrozen'), (select a from t)::text,
  'and names the admin as its actor');
select is((select n.note from private.account_control_notes n join event_store.events e on e.position = n.event_position
           where e.stream_id = 'user-' || (select u from t)), 'Passport photo belongs to someone else',
  'the note is kept privately, beside the event');
select is(money.set_account_frozen((select u from t), (select a from t), 'freeze', 'other') ->> 'changed', 'false',
  'freezing a frozen account changes nothing');
select is((select count(*)::int from event_store.events
           where stream_id = 'user-' || (select u from t) and type in ('AccountFrozen', 'AccountUnfrozen')), 1,
  'and records nothing');
select is((select reason || '/' || frozen_by from money.frozen_accounts where user_id = (select u from t)),
  'identity_mismatch/' || (select a from t), 'the frozen account shows the first reason and its admin');

select * from finish();
rollback;
