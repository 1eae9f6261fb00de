-- Purchase commands. Each is one SQL call that checks, locks, appends and (through the projection
-- trigger) projects in one transaction. Locks are taken before appending, users in id order.
--
-- Errors: MO404 unknown or retired package.

-- Every command that moves money calls this before appending. It first takes the earnings lock in
-- shared mode (the hourly earnings run takes it exclusively: it waits for commands in flight, and new
-- ones wait for it, so no money event lands in the middle of a period's accrual), then locks the
-- users' rows in id order (deadlock-free).
create function money.lock_users(p_user_ids uuid[]) returns void
language sql as $$
  select pg_advisory_xact_lock_shared(hashtextextended('accrue:earnings', 0));
  select 1 from public.users where user_id = any(p_user_ids) order by user_id for update;
$$;

-- A refund and the purchase it refunds may arrive at once in either order; both paths take this lock
-- first, so one of them always sees the other.
create function money.lock_payment_intent(p_payment_intent_id text) returns void
language sql as $$
  select pg_advisory_xact_lock(hashtextextended('payment_intent:' || p_payment_intent_id, 0))
$$;

create function money.rfc3339(p_at timestamptz) returns text
language sql immutable as $$ select to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;

create function money.start_checkout(
  p_purchase_id uuid, p_user_id uuid, p_package_id uuid, p_stripe_session_id text, p_metadata jsonb default '{}'::jsonb
) returns jsonb
language plpgsql as $$
declare
  v_package public.packages;
begin
  select * into v_package from public.packages where package_id = p_package_id and status = 'active';
  if not found then raise exception 'unknown or retired package' using errcode = 'MO404'; end if;
  perform event_store.append_events('purchase-' || p_purchase_id, 'no_stream', jsonb_build_array(jsonb_build_object(
    'type', 'CheckoutStarted',
    'data', jsonb_build_object('purchaseId', p_purchase_id, 'userId', p_user_id, 'packageId', p_package_id,
      'amountMinor', v_package.price_minor, 'currency', v_package.currency, 'stripeSessionId', p_stripe_session_id))),
    p_metadata);
  return money.purchase_json(p_purchase_id);
end;
$$;

create function money.purchase_json(p_purchase_id uuid) returns jsonb
language sql stable as $$
  select jsonb_build_object('purchaseId', purchase_id, 'packageId', package_id, 'amountMinor', amount_minor,
    'currency', currency, 'status', status, 'stripeSessionId', stripe_session_id, 'refundedMinor', refunded_minor,
    'contractId', contract_id,
    'createdAt', money.rfc3339(created_at), 'paidAt', money.rfc3339(paid_at))
  from public.purchases where purchase_id = p_purchase_id
$$;

-- Checkout paid: Purchased, the contract and one CommissionAccrued per level 1-10, exactly once per
-- purchase however many times and in whatever order Stripe delivers. Returns the outcome:
-- purchased | duplicate | unknown_purchase | amount_mismatch.
create function money.complete_purchase(
  p_purchase_id uuid, p_payment_intent_id text, p_amount_minor bigint, p_currency text,
  p_metadata jsonb default '{}'::jsonb, p_now timestamptz default null
) returns text
language plpgsql as $$
declare
  v_purchase public.purchases;
  v_package public.packages;
  v_ancestors uuid[];
  v_hold_days int := (money.settings()).commission_hold_days;
  v_now timestamptz;
  v_starts_at timestamptz;
  v_events jsonb;
  v_refund record;
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
  select * into v_package from public.packages where package_id = v_purchase.package_id;
  -- The clock is read after the earnings lock: an earnings run either finished before now (and so
  -- accrued no period this contract is in) or starts after we commit (and sees the contract).
  v_now := coalesce(p_now, clock_timestamp());
  v_starts_at := date_trunc('hour', v_now) + interval '1 hour';

  -- The contract starts at the next full hour, so it holds exactly duration_days x 24 periods.
  v_events := jsonb_build_array(jsonb_build_object('type', 'Purchased', 'data', jsonb_build_object(
    'purchaseId', v_purchase.purchase_id, 'userId', v_purchase.user_id, 'packageId', v_purchase.package_id,
    'amountMinor', v_purchase.amount_minor, 'currency', v_purchase.currency, 'paymentIntentId', p_payment_intent_id,
    'contractId', gen_random_uuid(), 'dailyRateBps', v_package.daily_rate_bps, 'durationDays', v_package.duration_days,
    'startsAt', money.rfc3339(v_starts_at),
    'endsAt', money.rfc3339(v_starts_at + make_interval(days => v_package.duration_days)))));

  -- One commission per level. Rates and VIP levels as they stand now (VIP changes caused by this
  -- purchase apply to later ones). What no upline may earn goes to the platform, saying why.
  select v_events || jsonb_agg(jsonb_build_object('type', 'CommissionAccrued', 'data', jsonb_build_object(
      'commissionId', gen_random_uuid(), 'purchaseId', v_purchase.purchase_id,
      'beneficiaryId', case when c.earned then c.upline_id end,
      'level', c.level, 'vipLevel', c.vip_level, 'rateBps', c.rate_bps,
      'amountMinor', v_purchase.amount_minor * c.rate_bps / 10000, 'currency', v_purchase.currency,
      'releasesAt', money.rfc3339(v_now + make_interval(days => v_hold_days)),
      'reason', case when c.upline_id is null then 'no_upline' when c.earned then 'earned' else 'vip_ineligible' end))
    order by c.level)
  into v_events
  from (
    select l.level, a.upline_id, u.vip_level, r.rate_bps is not null as earned,
           coalesce(r.rate_bps, (select max(m.rate_bps) from money.commission_rates m where m.level = l.level), 0) as rate_bps
    from generate_series(1, 10) as l(level)
    left join lateral (select v_ancestors[l.level] as upline_id) a on true
    left join public.users u on u.user_id = a.upline_id
    left join money.commission_rates r on r.level = l.level and r.vip_level = u.vip_level
  ) c;

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


create table money.deferred_refunds (
  payment_intent_id text not null,
  kind text not null,
  refunded_total_minor bigint not null,
  currency text not null,
  stripe_event_id text not null,
  received_at timestamptz not null default now(),
  constraint deferred_refunds_pkey primary key (payment_intent_id, kind),
  constraint deferred_refunds_kind_check check (kind in ('refund', 'dispute'))
);
comment on table money.deferred_refunds is 'Refunds and disputes whose purchase has not completed yet; applied when it does.';

-- A refund (Stripe's cumulative amount_refunded) or a dispute (the whole amount) of a paid purchase:
-- PurchaseRefunded/PurchaseDisputed for the new part, and each commission reversed in proportion,
-- floor(commission x refunded_total / price) in all, so a full refund reverses it exactly.
-- Inside the hold the reversal takes from pending; after it, from available, and what available
-- cannot cover is recorded as owed. Returns refunded | disputed | no_change | deferred, or
-- invalid / currency_mismatch for a command that cannot be applied (nothing changes).
create function money.refund_purchase(
  p_payment_intent_id text, p_refunded_total_minor bigint, p_currency text, p_kind text, p_stripe_event_id text,
  p_metadata jsonb default '{}'::jsonb
) returns text
language plpgsql as $$
declare
  v_purchase public.purchases;
  v_target bigint;
  v_events jsonb := '[]'::jsonb;
  c record;
  v_reverse bigint;
  v_from_available bigint;
begin
  if p_payment_intent_id is null or p_kind not in ('refund', 'dispute')
     or (p_kind = 'refund' and (p_refunded_total_minor is null or p_refunded_total_minor < 0)) then
    return 'invalid';
  end if;
  perform money.lock_payment_intent(p_payment_intent_id);
  select * into v_purchase from public.purchases where payment_intent_id = p_payment_intent_id for update;
  if not found then
    insert into money.deferred_refunds as d (payment_intent_id, kind, refunded_total_minor, currency, stripe_event_id)
    values (p_payment_intent_id, p_kind, p_refunded_total_minor, upper(p_currency), p_stripe_event_id)
    on conflict (payment_intent_id, kind) do update
      set refunded_total_minor = greatest(d.refunded_total_minor, excluded.refunded_total_minor),
          stripe_event_id = case when excluded.refunded_total_minor > d.refunded_total_minor
                                 then excluded.stripe_event_id else d.stripe_event_id end;
    return 'deferred';
  end if;

  if upper(p_currency) is distinct from v_purchase.currency then return 'currency_mismatch'; end if;
  v_target := case when p_kind = 'dispute' then v_purchase.amount_minor
                   else least(p_refunded_total_minor, v_purchase.amount_minor) end;
  if v_target <= v_purchase.refunded_minor then return 'no_change'; end if;

  -- The buyer and every upline: the projections move their volumes and VIP levels, not only the
  -- beneficiaries' balances (the same set complete_purchase locks).
  perform money.lock_users(
    coalesce((select ancestor_ids from public.referral_uplines where user_id = v_purchase.user_id), '{}') || v_purchase.user_id);

  v_events := jsonb_build_array(jsonb_build_object(
    'type', case when p_kind = 'dispute' then 'PurchaseDisputed' else 'PurchaseRefunded' end,
    'data', jsonb_build_object('purchaseId', v_purchase.purchase_id, 'amountMinor', v_target - v_purchase.refunded_minor,
      'currency', v_purchase.currency, 'stripeEventId', p_stripe_event_id)
      || case when p_kind = 'dispute' then '{}'::jsonb else jsonb_build_object('refundedTotalMinor', v_target) end));

  for c in
    select m.*, a.available_minor
    from public.commissions m left join public.user_accounts a on a.user_id = m.beneficiary_id
    where m.purchase_id = v_purchase.purchase_id order by m.level
  loop
    v_reverse := floor(c.amount_minor::numeric * v_target / v_purchase.amount_minor)::bigint - c.reversed_minor;
    continue when v_reverse <= 0;
    v_from_available := case when c.status = 'released' then least(v_reverse, c.available_minor) else 0 end;
    v_events := v_events || jsonb_build_object('type', 'CommissionReversed', 'data', jsonb_build_object(
      'commissionId', c.commission_id, 'amountMinor', v_reverse, 'currency', c.currency,
      'fromPendingMinor', case when c.status = 'pending' then v_reverse else 0 end,
      'fromAvailableMinor', v_from_available,
      'owedMinor', case when c.status = 'released' then v_reverse - v_from_available else 0 end));
  end loop;

  perform event_store.append_events('purchase-' || v_purchase.purchase_id, 'stream_exists', v_events, p_metadata);
  perform money.refresh_vip_levels(
    coalesce((select ancestor_ids from public.referral_uplines where user_id = v_purchase.user_id), '{}') || v_purchase.user_id,
    p_metadata);
  return case when p_kind = 'dispute' then 'disputed' else 'refunded' end;
end;
$$;

-- Async payment failed: the purchase is marked failed (no money moved).
create function money.fail_checkout(p_purchase_id uuid, p_stripe_event_id text, p_metadata jsonb default '{}'::jsonb)
returns text
language plpgsql as $$
declare
  v_status text;
begin
  select status into v_status from public.purchases where purchase_id = p_purchase_id for update;
  if v_status is null then return 'unknown_purchase'; end if;
  if v_status <> 'pending' then return 'duplicate'; end if;
  perform event_store.append_events('purchase-' || p_purchase_id, 'stream_exists', jsonb_build_array(jsonb_build_object(
    'type', 'CheckoutFailed', 'data', jsonb_build_object('purchaseId', p_purchase_id, 'stripeEventId', p_stripe_event_id))),
    p_metadata);
  return 'failed';
end;
$$;
