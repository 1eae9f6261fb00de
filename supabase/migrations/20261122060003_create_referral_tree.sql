-- The referral tree as projections that make every read O(levels): each user's ten nearest ancestors
-- (one indexed read finds a purchase's uplines) and per-level member counts and volumes (the network
-- view and VIP thresholds without walking the tree). The referrer is fixed at signup and must already
-- exist, so there are no cycles.
create table public.referral_uplines (
  user_id uuid primary key,
  ancestor_ids uuid[] not null,
  constraint referral_uplines_at_most_ten check (cardinality(ancestor_ids) <= 10)
);
comment on table public.referral_uplines is 'Each user''s uplines, nearest first (index 1 = direct referrer), at most 10.';

create table public.network_levels (
  user_id uuid not null,
  level smallint not null,
  members int not null default 0,
  volume_minor bigint not null default 0,
  constraint network_levels_pkey primary key (user_id, level),
  constraint network_levels_level_range check (level between 1 and 10),
  constraint network_levels_members_nonnegative check (members >= 0)
);
comment on table public.network_levels is 'Per user and level 1-10 below them: how many members, and their purchase volume net of refunds (platform currency, minor units).';

create table public.user_volumes (
  user_id uuid primary key,
  personal_volume_minor bigint not null default 0,
  team_volume_minor bigint not null default 0,
  direct_referrals int not null default 0
);
comment on table public.user_volumes is 'The figures VIP levels are computed from: own purchases, levels 1-10 purchases, direct referrals.';

select projections.register_table('public.referral_uplines', 'user_id');
select projections.register_table('public.network_levels', 'user_id');
select projections.register_table('public.user_volumes', 'user_id');

create function projections.project_referral_signup(e event_store.events) returns void
language plpgsql as $$
declare
  v_user_id uuid := (e.data ->> 'userId')::uuid;
  v_referrer_id uuid := (e.data ->> 'referrerId')::uuid;
  v_ancestors uuid[] := '{}';
begin
  if v_referrer_id is not null then
    select (array[v_referrer_id] || ancestor_ids)[1:10] into v_ancestors
    from public.referral_uplines where user_id = v_referrer_id;
    update public.user_volumes set direct_referrals = direct_referrals + 1 where user_id = v_referrer_id;
  end if;
  insert into public.referral_uplines (user_id, ancestor_ids) values (v_user_id, coalesce(v_ancestors, '{}'));
  insert into public.user_volumes (user_id) values (v_user_id);
  insert into public.network_levels as n (user_id, level, members)
  select a.ancestor_id, a.level, 1 from unnest(v_ancestors) with ordinality as a(ancestor_id, level)
  on conflict (user_id, level) do update set members = n.members + 1;
end;
$$;
insert into projections.handlers (event_type, handler, priority)
values ('UserRegistered', 'projections.project_referral_signup(event_store.events)'::regprocedure, 20);

-- Purchase volume in (positive) or out (refunds, negative) for a buyer and their uplines.
create function projections.add_volume(p_buyer_id uuid, p_amount_minor bigint) returns void
language plpgsql as $$
declare
  v_ancestors uuid[];
begin
  update public.user_volumes set personal_volume_minor = personal_volume_minor + p_amount_minor where user_id = p_buyer_id;
  select ancestor_ids into v_ancestors from public.referral_uplines where user_id = p_buyer_id;
  update public.network_levels n set volume_minor = n.volume_minor + p_amount_minor
  from unnest(v_ancestors) with ordinality as a(ancestor_id, level)
  where n.user_id = a.ancestor_id and n.level = a.level;
  update public.user_volumes set team_volume_minor = team_volume_minor + p_amount_minor
  where user_id = any(v_ancestors);
end;
$$;

-- Append VipLevelChanged for each of these users whose figures now qualify them for another VIP level
-- (the highest whose three thresholds they all meet; 0 when none). Callers hold the users' row
-- locks. Changes apply to later commissions only.
create function money.refresh_vip_levels(p_user_ids uuid[], p_metadata jsonb) returns void
language plpgsql as $$
declare
  r record;
begin
  for r in
    select u.user_id, u.vip_level as from_level, q.to_level
    from public.users u
    join public.user_volumes v on v.user_id = u.user_id
    cross join lateral (
      select coalesce(max(l.vip_level), 0)::smallint as to_level from money.vip_levels l
      where v.personal_volume_minor >= l.personal_volume_minor_min
        and v.team_volume_minor >= l.team_volume_minor_min
        and v.direct_referrals >= l.direct_referrals_min
    ) q
    where u.user_id = any(p_user_ids) and q.to_level <> u.vip_level
    order by u.user_id
  loop
    perform event_store.append_events('user-' || r.user_id, 'stream_exists', jsonb_build_array(jsonb_build_object(
      'type', 'VipLevelChanged',
      'data', jsonb_build_object('userId', r.user_id, 'fromLevel', r.from_level, 'toLevel', r.to_level))), p_metadata);
  end loop;
end;
$$;

create function projections.project_vip_level(e event_store.events) returns void
language sql as $$
  update public.users set vip_level = (e.data ->> 'toLevel')::smallint where user_id = (e.data ->> 'userId')::uuid;
$$;
insert into projections.handlers (event_type, handler, priority)
values ('VipLevelChanged', 'projections.project_vip_level(event_store.events)'::regprocedure, 10);

-- GET /account/network: levels 1-10 always present, O(levels).
create function money.network_json(p_user_id uuid) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'directReferrals', coalesce(sum(n.members) filter (where l.level = 1), 0),
    'totalNetwork', coalesce(sum(n.members), 0),
    'levels', jsonb_agg(jsonb_build_object('level', l.level, 'members', coalesce(n.members, 0),
                                           'volumeMinor', coalesce(n.volume_minor, 0)) order by l.level))
  from generate_series(1, 10) as l(level)
  left join public.network_levels n on n.user_id = p_user_id and n.level = l.level
$$;
