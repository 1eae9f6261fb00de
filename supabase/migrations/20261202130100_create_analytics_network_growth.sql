-- Network growth by level: how the downlines grew, per UTC day and level 1-10. A user registered with
-- k uplines (k = their depth in the tree, capped at the 10 uplines the tree keeps) adds one member at
-- levels 1..k of /account/network's figures (public.network_levels), one for each upline. Refreshed by
-- private.refresh_analytics() (20261202060200), which refreshes every materialized view in analytics.
create materialized view analytics.network_growth as
  select (u.registered_at at time zone 'UTC')::date as day, l.level::smallint as level,
         count(*)::bigint as placements,
         count(*) filter (where cardinality(r.ancestor_ids) = l.level)::bigint as joined_at_depth
  from public.users u
  join public.referral_uplines r on r.user_id = u.user_id
  join generate_series(1, 10) as l(level) on l.level <= cardinality(r.ancestor_ids)
  group by 1, 2;
create unique index network_growth_day_level_key on analytics.network_growth (day, level);
comment on materialized view analytics.network_growth is
  'Per UTC day of registration and level 1-10: placements = new downline members at that level, summed over all users (users registered that day with at least that many uplines; the sum of /account/network''s members at that level grows by it); joined_at_depth = users registered that day exactly that many levels below a root (10 = ten or more). Days and levels without placements have no row. Refreshed every 10 minutes (concurrently).';
grant select on analytics.network_growth to analyst;
