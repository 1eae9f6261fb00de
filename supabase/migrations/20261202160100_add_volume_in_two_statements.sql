-- projections.add_volume as in 20261122060003_create_referral_tree.sql, in two statements instead of four:
-- the buyer's personal volume and the uplines' team volume are one UPDATE of user_volumes (the buyer is
-- never among their own uplines: the tree has no cycles), and the uplines are read by the network_levels
-- UPDATE itself instead of into a variable first. Same rows, same sums (issue 12: add_volume was ≈9% of
-- a purchase's database time).
create or replace function projections.add_volume(p_buyer_id uuid, p_amount_minor bigint) returns void
language plpgsql as $$
begin
  update public.user_volumes v
  set personal_volume_minor = v.personal_volume_minor + case when v.user_id = p_buyer_id then p_amount_minor else 0 end,
      team_volume_minor = v.team_volume_minor + case when v.user_id = p_buyer_id then 0 else p_amount_minor end
  where v.user_id = any(p_buyer_id || coalesce(
    (select ancestor_ids from public.referral_uplines where user_id = p_buyer_id), '{}'));

  update public.network_levels n set volume_minor = n.volume_minor + p_amount_minor
  from public.referral_uplines u
  cross join unnest(u.ancestor_ids) with ordinality as a(ancestor_id, level)
  where u.user_id = p_buyer_id and n.user_id = a.ancestor_id and n.level = a.level;
end;
$$;
