begin;
select plan(8);

-- A user with three purchases of their own and one commission (on a referral's purchase), frozen.
create temp table t as select test_support.kyc_user() as u, test_support.package(10000, 100, 30) as p;
select test_support.buy((select u from t), (select p from t)) from generate_series(1, 3);
select test_support.fund((select u from t));
select test_support.freeze((select u from t), 'chargeback_risk');
create temp table o as select admin.user_overview((select u from t), 2) as j;

select is(admin.user_overview(gen_random_uuid()), null, 'an unknown user has no overview');
select is((select (j -> 'purchases' ->> 'total')::int || '/' || jsonb_array_length(j -> 'purchases' -> 'items') from o), '3/2',
  'purchases: the total, and only the newest p_limit of them');
select is((select jsonb_array_length(j -> 'contracts' -> 'items') from o), 2, 'contracts bounded the same way');
select is((select j -> 'commissionsByLevel' -> 0 ->> 'releasedMinor' from o), '8000', 'commissions released per level');
select is((select j -> 'flags' ->> 'frozenReason' from o), 'chargeback_risk', 'the freeze and its reason');
select is((select j -> 'vip' ->> 'personalVolumeMinor' from o), '30000', 'VIP figures: their own volume');
select is((select jsonb_array_length(j -> 'recentEvents') from o), 2, 'recent events bounded');
select is((select j -> 'adminActions' -> 0 ->> 'type' from o), 'AccountFrozen', 'the admin actions on them');

select * from finish();
rollback;
