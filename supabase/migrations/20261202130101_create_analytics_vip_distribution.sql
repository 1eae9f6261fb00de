-- VIP distribution: how many users hold each VIP level (0 = none yet) as of the last refresh. Refreshed by
-- private.refresh_analytics() (20261202060200).
create materialized view analytics.vip_distribution as
  select v.vip_level::smallint as vip_level, count(u.user_id)::bigint as users,
         coalesce(sum(w.personal_volume_minor), 0)::bigint as personal_volume_minor,
         coalesce(sum(w.direct_referrals), 0)::bigint as direct_referrals
  from generate_series(0, 10) as v(vip_level)
  left join public.users u on u.vip_level = v.vip_level
  left join public.user_volumes w on w.user_id = u.user_id
  group by v.vip_level;
create unique index vip_distribution_vip_level_key on analytics.vip_distribution (vip_level);
comment on materialized view analytics.vip_distribution is
  'Per VIP level 0-10 (0 = no level yet; one row per level, also when nobody holds it), as of the last refresh: users at that level, their own purchase volume net of refunds (platform currency, minor units) and their direct referrals, summed. Refreshed every 10 minutes (concurrently).';
grant select on analytics.vip_distribution to analyst;
