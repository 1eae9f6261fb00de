begin;
select plan(8);

-- Only this test's admins exist in its transaction.
update private.credentials set role = 'user' where role = 'admin';
create temp table t as select test_support.kyc_user(true) as a, test_support.kyc_user(true) as b, test_support.kyc_user() as c;

select throws_ok($$select private.change_role((select c from t), (select c from t), 'admin')$$,
  'KY403', null, 'a user promotes nobody, not even themself');
select is(private.change_role((select c from t), (select a from t), 'admin') ->> 'changed', 'true', 'an admin promotes');
select is(private.change_role((select c from t), (select a from t), 'admin') ->> 'changed', 'false',
  'promoting an admin changes nothing');
select is(private.change_role((select b from t), (select a from t), 'user') ->> 'role', 'user', 'an admin demotes another');
select is(private.change_role((select c from t), (select c from t), 'user') ->> 'role', 'user', 'or themself');
select throws_ok($$select private.change_role((select a from t), (select a from t), 'user')$$,
  'AD409', null, 'but nobody demotes the last admin');
select is((select array_agg(user_id) from private.credentials where role = 'admin'), array[(select a from t)],
  'who stays an admin');
select throws_ok($$select private.change_role(gen_random_uuid(), (select a from t), 'user')$$,
  'AD404', null, 'an unknown user has no role to change');

select * from finish();
rollback;
