begin;
select plan(3);
-- The distribution is of every user, so the test compares it before and after adding six users of its
-- own (rolled back): the difference is theirs alone, whatever other tests left in the database.
refresh materialized view analytics.vip_distribution;
create temp table before as select * from analytics.vip_distribution;

create temp table u as select gen_random_uuid() as id, v, pv, dr from (values
  (0, null::bigint, null::int), (0, null, null), (0, 0, 0), (3, 10000, 3), (3, 25000, 4), (10, 5000, 10)) as x(v, pv, dr);
insert into public.users (user_id, referral_code, registered_at, vip_level)
select id, test_support.referral_code(), '2031-01-01Z', v from u;
insert into public.user_volumes (user_id, personal_volume_minor, direct_referrals)
select id, pv, dr from u where pv is not null
on conflict (user_id) do update set personal_volume_minor = excluded.personal_volume_minor,
  direct_referrals = excluded.direct_referrals;
refresh materialized view analytics.vip_distribution;

select is((select count(*)::int from analytics.vip_distribution), 11, 'one row per VIP level 0-10, held or not');
-- VIP 0: three users, no volume; VIP 3: two users, 10,000 + 25,000 own volume, 3 + 4 direct referrals;
-- VIP 10: one user, 5,000 and 10; every other level unchanged.
select results_eq(
  $$select a.vip_level::int, a.users - b.users, a.personal_volume_minor - b.personal_volume_minor,
           a.direct_referrals - b.direct_referrals
    from analytics.vip_distribution a join before b using (vip_level) order by vip_level$$,
  $$values (0, 3::bigint, 0::bigint, 0::bigint), (1, 0, 0, 0), (2, 0, 0, 0), (3, 2, 35000, 7), (4, 0, 0, 0),
           (5, 0, 0, 0), (6, 0, 0, 0), (7, 0, 0, 0), (8, 0, 0, 0), (9, 0, 0, 0), (10, 1, 5000, 10)$$,
  'users, own volume and direct referrals per VIP level');
select lives_ok('refresh materialized view concurrently analytics.vip_distribution', 'it refreshes concurrently');
select * from finish();
rollback;
