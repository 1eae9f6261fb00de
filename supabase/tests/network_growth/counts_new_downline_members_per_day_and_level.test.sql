begin;
select plan(3);
-- Hand-made rows far in the future (2031), so the days checked hold nothing but them; rolled back.
set local timezone = 'Pacific/Kiritimati'; -- UTC+14: days are UTC whatever the session's zone

-- 02-01: root r, a under r, b under a. 02-02: c under b, d under r, e ten levels below a root (its eleventh
-- and higher uplines are not kept: depth 10).
create temp table u as
  select gen_random_uuid() as r, gen_random_uuid() as a, gen_random_uuid() as b, gen_random_uuid() as c,
         gen_random_uuid() as d, gen_random_uuid() as e,
         array(select gen_random_uuid() from generate_series(1, 10)) as far;
insert into public.users (user_id, referral_code, registered_at)
select id, test_support.referral_code(), at from u, lateral (values
  (r, '2031-02-01 00:00Z'::timestamptz), (a, '2031-02-01 12:00Z'), (b, '2031-02-01 23:59:59Z'),
  (c, '2031-02-02 00:00Z'), (d, '2031-02-02 10:00Z'), (e, '2031-02-02 23:00Z')) as v(id, at);
insert into public.referral_uplines (user_id, ancestor_ids)
select id, anc from u, lateral (values
  (r, '{}'::uuid[]), (a, array[r]), (b, array[a, r]), (c, array[b, a, r]), (d, array[r]), (e, far)) as v(id, anc);
refresh materialized view analytics.network_growth;

-- 02-01: a and b add a member at level 1 (for r and a), b one at level 2 (for r); a joined at depth 1, b at 2.
-- 02-02: c, d, e at level 1; c and e at levels 2 and 3; e alone at 4-10. Depths: d 1, c 3, e 10.
select results_eq(
  $$select day::text, level::int, placements, joined_at_depth from analytics.network_growth
    where day between '2031-02-01' and '2031-02-02' order by day, level$$,
  $$values ('2031-02-01', 1, 2::bigint, 1::bigint), ('2031-02-01', 2, 1, 1),
           ('2031-02-02', 1, 3, 1), ('2031-02-02', 2, 2, 0), ('2031-02-02', 3, 2, 1), ('2031-02-02', 4, 1, 0),
           ('2031-02-02', 5, 1, 0), ('2031-02-02', 6, 1, 0), ('2031-02-02', 7, 1, 0), ('2031-02-02', 8, 1, 0),
           ('2031-02-02', 9, 1, 0), ('2031-02-02', 10, 1, 1)$$,
  'new downline members per UTC day of registration and level, and the depth each user joined at');
-- What /account/network shows grows by the placements: r's level 1 gets a and d, level 2 b, level 3 c.
select is((select sum(placements)::bigint from analytics.network_growth where day between '2031-02-01' and '2031-02-02'),
  (select sum(cardinality(ancestor_ids))::bigint from public.referral_uplines
   where user_id in (select unnest(array[a, b, c, d, e]) from u)),
  'placements add up to one per (new user, upline)');
select lives_ok('refresh materialized view concurrently analytics.network_growth', 'it refreshes concurrently');
select * from finish();
rollback;
