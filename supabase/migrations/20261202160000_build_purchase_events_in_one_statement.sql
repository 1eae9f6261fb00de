-- money.complete_purchase as in 20261202110100_format_purchase_release_time_once.sql, with the purchase's
-- eleven events (Purchased and ten CommissionAccrued) built by one statement instead of a package
-- lookup, a Purchased object and then a commission array concatenated onto it (issue 12: the function's
-- own JSON building was ≈17% of a purchase's database time in a track_functions profile). The level's
-- platform rate (the highest rate of the level, used when the upline may not earn) is read from one
-- aggregate over money.commission_rates instead of a subquery per level. What the events hold is
-- unchanged, key for key.
create or replace function money.complete_purchase(
  p_purchase_id uuid, p_payment_intent_id text, p_amount_minor bigint, p_currency text,
  p_metadata jsonb default '{}'::jsonb, p_now timestamptz default null
) returns text
language plpgsql as $$
declare
  v_purchase public.purchases;
  v_ancestors uuid[];
  v_hold_days int := (money.settings()).commission_hold_days;
  v_now timestamptz;
  v_starts_at timestamptz;
  v_events jsonb;
  v_refund record;
  v_releases_at text;
begin
  if p_payment_intent_id is not null then perform money.lock_payment_intent(p_payment_intent_id); end if;
  select * into v_purchase from public.purchases where purchase_id = p_purchase_id for update;
  if not found then return 'unknown_purchase'; end if;
  if v_purchase.status <> 'pending' then return 'duplicate'; end if;
  if v_purchase.amount_minor is distinct from p_amount_minor or v_purchase.currency is distinct from upper(p_currency) then
    return 'amount_mismatch';
  end if;

  select coalesce(ancestor_ids, '{}') into v_ancestors from public.referral_uplines where user_id = v_purchase.user_id;
  perform money.lock_users(v_ancestors || v_purchase.user_id);
  -- The clock is read after the earnings lock: an earnings run either finished before now (and so
  -- accrued no period this contract is in) or starts after we commit (and sees the contract).
  v_now := coalesce(p_now, clock_timestamp());
  -- The contract starts at the next full hour, so it holds exactly duration_days x 24 periods.
  v_starts_at := date_trunc('hour', v_now) + interval '1 hour';
  v_releases_at := money.rfc3339(v_now + make_interval(days => v_hold_days));

  -- One commission per level. Rates and VIP levels as they stand now (VIP changes caused by this
  -- purchase apply to later ones). What no upline may earn goes to the platform, saying why.
  with levels as (
    select l.level, a.upline_id, u.vip_level, r.rate_bps is not null as earned,
           coalesce(r.rate_bps, m.max_rate_bps, 0) as rate_bps
    from generate_series(1, 10) as l(level)
    cross join lateral (select v_ancestors[l.level] as upline_id) a
    left join public.users u on u.user_id = a.upline_id
    left join money.commission_rates r on r.level = l.level and r.vip_level = u.vip_level
    left join (select level, max(rate_bps) as max_rate_bps from money.commission_rates group by level) m
      on m.level = l.level
  ), commissions as (
    select jsonb_agg(jsonb_build_object('type', 'CommissionAccrued', 'data', jsonb_build_object(
        'commissionId', gen_random_uuid(), 'purchaseId', v_purchase.purchase_id,
        'beneficiaryId', case when c.earned then c.upline_id end,
        'level', c.level, 'vipLevel', c.vip_level, 'rateBps', c.rate_bps,
        'amountMinor', v_purchase.amount_minor * c.rate_bps / 10000, 'currency', v_purchase.currency,
        'releasesAt', v_releases_at,
        'reason', case when c.upline_id is null then 'no_upline' when c.earned then 'earned' else 'vip_ineligible' end))
      order by c.level) as events
    from levels c
  )
  select jsonb_build_array(jsonb_build_object('type', 'Purchased', 'data', jsonb_build_object(
      'purchaseId', v_purchase.purchase_id, 'userId', v_purchase.user_id, 'packageId', v_purchase.package_id,
      'amountMinor', v_purchase.amount_minor, 'currency', v_purchase.currency, 'paymentIntentId', p_payment_intent_id,
      'contractId', gen_random_uuid(), 'dailyRateBps', k.daily_rate_bps, 'durationDays', k.duration_days,
      'startsAt', money.rfc3339(v_starts_at),
      'endsAt', money.rfc3339(v_starts_at + make_interval(days => k.duration_days))))) || c.events
  into v_events
  from commissions c left join public.packages k on k.package_id = v_purchase.package_id;

  perform event_store.append_events('purchase-' || p_purchase_id, 'stream_exists', v_events, p_metadata);
  perform money.refresh_vip_levels(v_ancestors || v_purchase.user_id, p_metadata);

  -- Refunds or disputes that arrived before the purchase apply now.
  -- (One in another currency stays in the table for an operator to see; it cannot apply.)
  for v_refund in
    delete from money.deferred_refunds
    where payment_intent_id = p_payment_intent_id and currency = v_purchase.currency
    returning *
  loop
    perform money.refund_purchase(p_payment_intent_id, v_refund.refunded_total_minor, v_refund.currency, v_refund.kind,
      v_refund.stripe_event_id, p_metadata);
  end loop;
  return 'purchased';
end;
$$;
