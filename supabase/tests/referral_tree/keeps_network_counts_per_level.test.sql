begin;
select plan(4);

create temp table t as select test_support.chain(12) as c, test_support.package(10000, 100, 30) as p;
select test_support.register((select c[1] from t));
select test_support.buy((select c[12] from t), (select p from t));

select is((select cardinality(ancestor_ids) from public.referral_uplines where user_id = (select c[12] from t)), 10,
  'a user keeps at most ten uplines');
select is((select ancestor_ids[1:2] from public.referral_uplines where user_id = (select c[12] from t)),
  (select array[c[11], c[10]] from t), 'nearest first');
select is(money.network_json((select c[1] from t)) -> 'levels' -> 0, '{"level": 1, "members": 2, "volumeMinor": 0}'::jsonb,
  'the root has two direct referrals');
select is((select (money.network_json(c[2]) ->> 'totalNetwork')::int || '/' || (money.network_json(c[2]) -> 'levels' -> 9 ->> 'volumeMinor') from t),
  '10/10000', 'ten levels down: members and volume, within ten levels');

select * from finish();
rollback;
