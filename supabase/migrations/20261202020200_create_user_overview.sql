-- One user at a glance (GET /admin/users/{id}, and Studio: select admin.user_overview('<id>');). Every
-- list is bounded: the newest p_limit (1-100) items with the list's total, and `before` positions for
-- the next page (p_before_* arguments, one per list, so each list pages on its own keyset).
--   profile, flags (frozen and why, KYC status), balances, VIP level and why (the figures against the
--   thresholds of the level held and of the next one), contracts, purchases, commissions earned and
--   released per level, downline per level (ten rows), withdrawals, the last p_limit events about the user
--   (their own streams: user, purchases, withdrawals, KYC cases) and the admin actions among them, with the
--   private notes admins gave.
create function admin.user_overview(
  p_user_id uuid,
  p_limit int default 20,
  p_before_event bigint default null
) returns jsonb
language plpgsql stable as $$
declare
  v_limit int := least(greatest(coalesce(p_limit, 20), 1), 100);
  v_streams text[];
  v_result jsonb;
begin
  if not exists (select from public.users where user_id = p_user_id) then return null; end if;
  -- The streams about the user: theirs, and those of their purchases, withdrawals and KYC cases.
  v_streams := array['user-' || p_user_id]
    || array(select 'purchase-' || purchase_id from public.purchases where user_id = p_user_id)
    || array(select 'withdrawal-' || withdrawal_id from public.withdrawals where user_id = p_user_id)
    || array(select 'kyc-' || case_id from public.kyc_cases where user_id = p_user_id);

  select jsonb_build_object(
    'profile', jsonb_build_object('id', u.user_id, 'email', p.email, 'role', c.role, 'referralCode', u.referral_code,
      'referrerId', u.referrer_id, 'registeredAt', money.rfc3339(u.registered_at)),
    'flags', jsonb_build_object('frozen', f.user_id is not null, 'frozenReason', f.reason,
      'frozenAt', money.rfc3339(f.frozen_at), 'frozenBy', f.frozen_by, 'kycStatus', u.kyc_status,
      'owes', a.owed_minor < 0),
    'balances', jsonb_build_object('currency', a.currency, 'availableMinor', a.available_minor,
      'pendingMinor', a.pending_minor, 'inTransitMinor', a.in_transit_minor, 'heldMinor', a.held_minor,
      'owedMinor', a.owed_minor, 'earnedMinor', a.earned_minor, 'commissionMinor', a.commission_minor,
      'withdrawnMinor', a.withdrawn_minor),
    'vip', jsonb_build_object('level', u.vip_level,
      'personalVolumeMinor', v.personal_volume_minor, 'teamVolumeMinor', v.team_volume_minor,
      'directReferrals', v.direct_referrals,
      'levelThresholds', (select jsonb_build_object('personalVolumeMinor', l.personal_volume_minor_min,
          'teamVolumeMinor', l.team_volume_minor_min, 'directReferrals', l.direct_referrals_min)
        from money.vip_levels l where l.vip_level = u.vip_level),
      'nextLevel', (select jsonb_build_object('level', l.vip_level, 'personalVolumeMinor', l.personal_volume_minor_min,
          'teamVolumeMinor', l.team_volume_minor_min, 'directReferrals', l.direct_referrals_min,
          'missing', jsonb_strip_nulls(jsonb_build_object(
            'personalVolumeMinor', nullif(greatest(l.personal_volume_minor_min - v.personal_volume_minor, 0), 0),
            'teamVolumeMinor', nullif(greatest(l.team_volume_minor_min - v.team_volume_minor, 0), 0),
            'directReferrals', nullif(greatest(l.direct_referrals_min - v.direct_referrals, 0), 0))))
        from money.vip_levels l where l.vip_level > u.vip_level order by l.vip_level limit 1)),
    'contracts', jsonb_build_object(
      'total', (select count(*) from public.contracts where user_id = p_user_id),
      'items', coalesce((select jsonb_agg(x order by x ->> 'startsAt' desc, x ->> 'id' desc) from (
        select jsonb_build_object('id', k.contract_id, 'purchaseId', k.purchase_id, 'principalMinor', k.principal_minor,
          'totalYieldMinor', k.total_yield_minor, 'accruedMinor', money.accrued_after_periods(k.total_yield_minor,
            money.contract_periods_accrued(k.starts_at, k.ends_at, k.stopped_after_periods), k.duration_days),
          'status', k.status, 'startsAt', money.rfc3339(k.starts_at), 'endsAt', money.rfc3339(k.ends_at)) as x
        from public.contracts k where k.user_id = p_user_id
        order by k.starts_at desc, k.contract_id desc limit v_limit) s), '[]')),
    'purchases', jsonb_build_object(
      'total', (select count(*) from public.purchases where user_id = p_user_id),
      'items', coalesce((select jsonb_agg(money.purchase_json(s.purchase_id) order by s.created_at desc, s.purchase_id desc) from (
        select purchase_id, created_at from public.purchases where user_id = p_user_id
        order by created_at desc, purchase_id desc limit v_limit) s), '[]')),
    'commissionsByLevel', coalesce((select jsonb_agg(jsonb_build_object('level', m.level, 'count', m.n,
        'earnedMinor', m.earned, 'releasedMinor', m.released, 'pendingMinor', m.pending) order by m.level) from (
      select level, count(*) as n, sum(amount_minor - reversed_minor) as earned,
             sum(amount_minor - reversed_minor) filter (where status = 'released') as released,
             sum(amount_minor - reversed_minor) filter (where status = 'pending') as pending
      from public.commissions where beneficiary_id = p_user_id group by level) m), '[]'),
    'downline', money.network_json(p_user_id),
    'withdrawals', jsonb_build_object(
      'total', (select count(*) from public.withdrawals where user_id = p_user_id),
      'items', coalesce((select jsonb_agg(money.withdrawal_json(s.withdrawal_id) order by s.requested_at desc, s.withdrawal_id desc) from (
        select withdrawal_id, requested_at from public.withdrawals where user_id = p_user_id
        order by requested_at desc, withdrawal_id desc limit v_limit) s), '[]')),
    'recentEvents', coalesce((select jsonb_agg(jsonb_build_object('position', e.position, 'type', e.type,
        'streamId', e.stream_id, 'data', e.data, 'actorId', e.metadata -> 'actorId',
        'recordedAt', money.rfc3339(e.recorded_at)) order by e.position desc) from (
      select * from event_store.events
      where stream_id = any(v_streams) and position < coalesce(p_before_event, 9223372036854775807)
      order by position desc limit v_limit) e), '[]'),
    'adminActions', coalesce((select jsonb_agg(jsonb_build_object('position', e.position, 'type', e.type,
        'adminId', e.data -> 'adminId', 'reason', e.data -> 'reason', 'note', n.note,
        'recordedAt', money.rfc3339(e.recorded_at)) order by e.position desc) from (
      select * from event_store.events
      where stream_id = any(v_streams) and data ->> 'adminId' is not null
      order by position desc limit v_limit) e
      left join private.account_control_notes n on n.event_position = e.position), '[]')
  ) into v_result
  from public.users u
  join private.profiles p on p.user_id = u.user_id
  join private.credentials c on c.user_id = u.user_id
  left join public.user_accounts a on a.user_id = u.user_id
  left join public.user_volumes v on v.user_id = u.user_id
  left join money.frozen_accounts f on f.user_id = u.user_id
  where u.user_id = p_user_id;
  return v_result;
end;
$$;
comment on function admin.user_overview(uuid, int, bigint) is
  'One user at a glance: profile, flags, balances, VIP and why, contracts, purchases, commissions per level, downline, withdrawals, recent events and admin actions. Lists hold the newest p_limit (1-100) items; p_before_event pages the events. Null for an unknown user.';
