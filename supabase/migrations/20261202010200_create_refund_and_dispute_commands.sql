-- Refund, dispute and won-dispute commands (issue "Close the leaks", items 1, 3 and 4). Each is one
-- transaction under the payment intent's lock and the row locks of the buyer and every upline, taken
-- before appending (money.lock_users), exactly as commission reversals always were.

-- How a clawback of p_amount_minor from a user splits: what their available balance covers, and the
-- rest recorded as owed. Read under the user's lock, just before the event that applies it.
create function money.clawback_split(p_user_id uuid, p_amount_minor bigint) returns jsonb
language sql stable as $$
  select jsonb_build_object('fromAvailableMinor', least(p_amount_minor, greatest(a.available_minor, 0)),
                            'owedMinor', p_amount_minor - least(p_amount_minor, greatest(a.available_minor, 0)))
  from public.user_accounts a where a.user_id = p_user_id
$$;

-- Disputes the platform won, by Stripe dispute id: a won dispute may arrive before its
-- charge.dispute.created (or before the purchase); the record makes that late "created" a no-op.
create table money.won_disputes (
  dispute_id text primary key,
  payment_intent_id text not null,
  stripe_event_id text not null,
  received_at timestamptz not null default now()
);
comment on table money.won_disputes is 'Stripe disputes closed as won (charge.dispute.closed, status won), whatever order their events came in.';
alter table money.deferred_refunds add column dispute_id text;

-- VIP from refundable volume (item 4). After a refund or dispute lowers volumes, every user in
-- p_user_ids whose VIP level fell below p_levels_before gives back what they earned, since
-- p_since (when the refunded volume started to count), above what their new level pays: the whole
-- commission on a level the new VIP level does not reach, the rate difference otherwise. Volumes only
-- fall by refunds, so a level a user no longer reaches was reached then only through the refunded volume.
create function money.reverse_commissions_above_vip(
  p_user_ids uuid[], p_levels_before jsonb, p_since timestamptz, p_metadata jsonb
) returns void
language plpgsql as $$
declare
  c record;
  v_excess bigint;
  v_split jsonb;
begin
  for c in
    select m.commission_id, m.purchase_id, m.beneficiary_id, m.status, m.currency,
           m.amount_minor - m.reversed_minor as standing_minor,
           floor(p.amount_minor::numeric * coalesce(r.rate_bps, 0) / 10000)::bigint as entitled_minor,
           p.amount_minor as price_minor, p.refunded_minor
    from public.users u
    join public.commissions m on m.beneficiary_id = u.user_id
    join public.purchases p on p.purchase_id = m.purchase_id
    left join money.commission_rates r on r.level = m.level and r.vip_level = u.vip_level
    where u.user_id = any(p_user_ids)
      and u.vip_level < coalesce((p_levels_before ->> u.user_id::text)::int, 0)
      and m.accrued_at >= p_since and m.status in ('pending', 'released')
    order by m.beneficiary_id, m.accrued_at, m.commission_id
  loop
    -- What the new level pays on this purchase, net of the purchase's own refunds.
    v_excess := c.standing_minor
      - (c.entitled_minor - floor(c.entitled_minor::numeric * c.refunded_minor / c.price_minor)::bigint);
    continue when v_excess <= 0;
    v_split := case when c.status = 'released' then money.clawback_split(c.beneficiary_id, v_excess)
                    else jsonb_build_object('fromAvailableMinor', 0, 'owedMinor', 0) end;
    perform event_store.append_events('purchase-' || c.purchase_id, 'stream_exists', jsonb_build_array(jsonb_build_object(
      'type', 'CommissionReversed',
      'data', jsonb_build_object('commissionId', c.commission_id, 'amountMinor', v_excess, 'currency', c.currency,
        'fromPendingMinor', case when c.status = 'pending' then v_excess else 0 end, 'reason', 'vip_recomputed') || v_split)),
      p_metadata);
  end loop;
end;
$$;

create function money.vip_levels_of(p_user_ids uuid[]) returns jsonb
language sql stable as $$
  select coalesce(jsonb_object_agg(user_id, vip_level), '{}'::jsonb) from public.users where user_id = any(p_user_ids)
$$;

drop function money.refund_purchase(text, bigint, text, text, text, jsonb);

-- A refund (Stripe's cumulative amount_refunded) or a dispute (the whole amount) of a paid purchase:
-- PurchaseRefunded/PurchaseDisputed for the new part; each commission reversed in proportion,
-- floor(commission x refunded_total / price) in all (inside the hold from pending; after it a
-- clawback from available, the rest owed); the contract's earnings clawed back the same way
-- (EarningsReversed); then VIP levels re-evaluated and commissions earned above a fallen level
-- reversed. Returns refunded | disputed | no_change | deferred, or invalid / currency_mismatch for a
-- command that cannot be applied (nothing changes).
create function money.refund_purchase(
  p_payment_intent_id text, p_refunded_total_minor bigint, p_currency text, p_kind text, p_stripe_event_id text,
  p_metadata jsonb default '{}'::jsonb, p_dispute_id text default null
) returns text
language plpgsql as $$
declare
  v_purchase public.purchases;
  v_contract public.contracts;
  v_target bigint;
  v_users uuid[];
  v_levels_before jsonb;
  v_events jsonb;
  c record;
  v_reverse bigint;
begin
  if p_payment_intent_id is null or p_kind not in ('refund', 'dispute')
     or (p_kind = 'refund' and (p_refunded_total_minor is null or p_refunded_total_minor < 0)) then
    return 'invalid';
  end if;
  perform money.lock_payment_intent(p_payment_intent_id);
  if p_kind = 'dispute' and exists (select from money.won_disputes where dispute_id = p_dispute_id) then
    return 'no_change';
  end if;
  select * into v_purchase from public.purchases where payment_intent_id = p_payment_intent_id for update;
  if not found then
    insert into money.deferred_refunds as d (payment_intent_id, kind, refunded_total_minor, currency, stripe_event_id, dispute_id)
    values (p_payment_intent_id, p_kind, p_refunded_total_minor, upper(p_currency), p_stripe_event_id, p_dispute_id)
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
  v_users := coalesce((select ancestor_ids from public.referral_uplines where user_id = v_purchase.user_id), '{}')
             || v_purchase.user_id;
  perform money.lock_users(v_users);
  v_levels_before := money.vip_levels_of(v_users);

  v_events := jsonb_build_array(jsonb_build_object(
    'type', case when p_kind = 'dispute' then 'PurchaseDisputed' else 'PurchaseRefunded' end,
    'data', jsonb_build_object('purchaseId', v_purchase.purchase_id, 'amountMinor', v_target - v_purchase.refunded_minor,
      'currency', v_purchase.currency, 'stripeEventId', p_stripe_event_id)
      || case when p_kind = 'dispute' then jsonb_strip_nulls(jsonb_build_object('disputeId', p_dispute_id))
              else jsonb_build_object('refundedTotalMinor', v_target) end));

  -- Commissions: each beneficiary appears once per purchase, so reading balances before appending is exact.
  for c in
    select m.* from public.commissions m where m.purchase_id = v_purchase.purchase_id order by m.level
  loop
    v_reverse := floor(c.amount_minor::numeric * v_target / v_purchase.amount_minor)::bigint - c.reversed_minor;
    continue when v_reverse <= 0;
    v_events := v_events || jsonb_build_object('type', 'CommissionReversed', 'data', jsonb_build_object(
      'commissionId', c.commission_id, 'amountMinor', v_reverse, 'currency', c.currency, 'reason', 'refund',
      'fromPendingMinor', case when c.status = 'pending' then v_reverse else 0 end)
      || case when c.status = 'released' then money.clawback_split(c.beneficiary_id, v_reverse)
              else jsonb_build_object('fromAvailableMinor', 0, 'owedMinor', 0) end);
  end loop;

  -- Earnings paid on the contract, in proportion (the buyer is never a beneficiary of their own purchase).
  select * into v_contract from public.contracts where contract_id = v_purchase.contract_id;
  v_reverse := floor(money.accrued_after_periods(v_contract.total_yield_minor,
                 money.contract_periods_accrued(v_contract.starts_at, v_contract.ends_at, v_contract.stopped_after_periods),
                 v_contract.duration_days)::numeric * v_target / v_purchase.amount_minor)::bigint
               - v_contract.earnings_reversed_minor;
  if v_reverse > 0 then
    v_events := v_events || jsonb_build_object('type', 'EarningsReversed', 'data', jsonb_build_object(
      'contractId', v_contract.contract_id, 'purchaseId', v_purchase.purchase_id, 'userId', v_purchase.user_id,
      'amountMinor', v_reverse, 'currency', v_purchase.currency) || money.clawback_split(v_purchase.user_id, v_reverse));
  end if;

  perform event_store.append_events('purchase-' || v_purchase.purchase_id, 'stream_exists', v_events, p_metadata);
  perform money.refresh_vip_levels(v_users, p_metadata);
  perform money.reverse_commissions_above_vip(v_users, v_levels_before, v_purchase.paid_at, p_metadata);
  return case when p_kind = 'dispute' then 'disputed' else 'refunded' end;
end;
$$;

-- A dispute closed as won (item 3): what the dispute reversed comes back by new events, exactly once
-- (the purchase must be disputed by this dispute; a second delivery finds it no longer disputed), and
-- in any order (recorded in money.won_disputes, so a late charge.dispute.created changes nothing).
-- Commissions the dispute reversed are restored (to pending inside the hold, else to available, paying
-- debt first); the contract's clawed-back earnings too, and when no refund had stopped it, the contract
-- resumes and pays the periods it missed. Returns dispute_won | no_change | deferred | invalid |
-- currency_mismatch.
create function money.win_dispute(
  p_payment_intent_id text, p_dispute_id text, p_currency text, p_stripe_event_id text,
  p_metadata jsonb default '{}'::jsonb
) returns text
language plpgsql as $$
declare
  v_purchase public.purchases;
  v_contract public.contracts;
  v_kept bigint;
  v_users uuid[];
  v_events jsonb;
  c record;
  v_restore bigint;
  v_accrued_at_stop bigint;
  v_catch_up bigint := 0;
begin
  if p_payment_intent_id is null or p_dispute_id is null then return 'invalid'; end if;
  perform money.lock_payment_intent(p_payment_intent_id);
  insert into money.won_disputes (dispute_id, payment_intent_id, stripe_event_id)
  values (p_dispute_id, p_payment_intent_id, p_stripe_event_id) on conflict (dispute_id) do nothing;
  select * into v_purchase from public.purchases where payment_intent_id = p_payment_intent_id for update;
  if not found then
    -- Neither the purchase nor its dispute has applied: the dispute, if it came first, never will.
    delete from money.deferred_refunds
    where payment_intent_id = p_payment_intent_id and kind = 'dispute' and dispute_id is not distinct from p_dispute_id;
    return 'deferred';
  end if;
  if upper(p_currency) is distinct from v_purchase.currency then return 'currency_mismatch'; end if;
  -- (A dispute deferred until its purchase landed was applied without its id: it is the open one.)
  if v_purchase.status <> 'disputed' or v_purchase.dispute_id <> p_dispute_id then
    return 'no_change';
  end if;

  v_users := coalesce((select ancestor_ids from public.referral_uplines where user_id = v_purchase.user_id), '{}')
             || v_purchase.user_id;
  perform money.lock_users(v_users);
  v_kept := v_purchase.refunded_minor - v_purchase.disputed_minor; -- refunds before the dispute stay

  v_events := jsonb_build_array(jsonb_build_object('type', 'DisputeWon', 'data', jsonb_build_object(
    'purchaseId', v_purchase.purchase_id, 'disputeId', p_dispute_id, 'amountMinor', v_purchase.disputed_minor,
    'currency', v_purchase.currency, 'stripeEventId', p_stripe_event_id)));

  for c in select m.* from public.commissions m where m.purchase_id = v_purchase.purchase_id order by m.level loop
    v_restore := c.reversed_minor - c.vip_reversed_minor
                 - floor(c.amount_minor::numeric * v_kept / v_purchase.amount_minor)::bigint;
    continue when v_restore <= 0;
    v_events := v_events || jsonb_build_object('type', 'CommissionRestored', 'data', jsonb_build_object(
      'commissionId', c.commission_id, 'amountMinor', v_restore, 'currency', c.currency,
      'toPendingMinor', case when c.status in ('pending', 'reversed') then v_restore else 0 end));
  end loop;

  select * into v_contract from public.contracts where contract_id = v_purchase.contract_id;
  v_accrued_at_stop := money.accrued_after_periods(v_contract.total_yield_minor, v_contract.stopped_after_periods,
                         v_contract.duration_days);
  v_restore := v_contract.earnings_reversed_minor
               - floor(v_accrued_at_stop::numeric * v_kept / v_purchase.amount_minor)::bigint;
  if v_kept = 0 then
    -- The contract resumes (DisputeWon's projection): it is owed the periods accrued while it stood still.
    v_catch_up := money.accrued_after_periods(v_contract.total_yield_minor,
                    money.contract_periods_accrued(v_contract.starts_at, v_contract.ends_at, null), v_contract.duration_days)
                  - v_accrued_at_stop;
  end if;
  if v_restore + v_catch_up > 0 then
    v_events := v_events || jsonb_build_object('type', 'EarningsRestored', 'data', jsonb_build_object(
      'contractId', v_contract.contract_id, 'purchaseId', v_purchase.purchase_id, 'userId', v_purchase.user_id,
      'amountMinor', v_restore + v_catch_up, 'restoredMinor', greatest(v_restore, 0), 'currency', v_purchase.currency));
  end if;

  perform event_store.append_events('purchase-' || v_purchase.purchase_id, 'stream_exists', v_events, p_metadata);
  perform money.refresh_vip_levels(v_users, p_metadata);
  return 'dispute_won';
end;
$$;

-- As before, plus: a dispute carries its Stripe id, and dispute_won applies money.win_dispute.
--   {"kind": "dispute", "paymentIntentId", "disputeId", "currency"}
--   {"kind": "dispute_won", "paymentIntentId", "disputeId", "currency"}
create or replace function money.handle_stripe_event(
  p_stripe_event_id text, p_event_type text, p_command jsonb, p_metadata jsonb default '{}'::jsonb
) returns jsonb
language plpgsql as $$
declare
  v_outcome text;
  v_purchase_id uuid;
begin
  insert into money.stripe_events (stripe_event_id, event_type) values (p_stripe_event_id, p_event_type)
  on conflict (stripe_event_id) do nothing;
  if not found then
    return jsonb_build_object('outcome', (select outcome from money.stripe_events where stripe_event_id = p_stripe_event_id),
                              'duplicate', true);
  end if;
  p_metadata := coalesce(p_metadata, '{}'::jsonb) || jsonb_build_object('causationId', p_stripe_event_id);
  -- A purchase id that is not a UUID cannot be ours (metadata edited in Stripe's dashboard, say).
  v_purchase_id := case when p_command ->> 'purchaseId' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                        then (p_command ->> 'purchaseId')::uuid end;
  v_outcome := case p_command ->> 'kind'
    when 'payment_succeeded' then
      case when v_purchase_id is null then 'unknown_purchase'
           else money.complete_purchase(v_purchase_id, p_command ->> 'paymentIntentId',
                  (p_command ->> 'amountMinor')::bigint, p_command ->> 'currency', p_metadata) end
    when 'payment_failed' then
      case when v_purchase_id is null then 'unknown_purchase'
           else money.fail_checkout(v_purchase_id, p_stripe_event_id, p_metadata) end
    when 'refund' then
      money.refund_purchase(p_command ->> 'paymentIntentId', (p_command ->> 'refundedTotalMinor')::bigint,
        p_command ->> 'currency', 'refund', p_stripe_event_id, p_metadata)
    when 'dispute' then
      money.refund_purchase(p_command ->> 'paymentIntentId', 0, p_command ->> 'currency', 'dispute', p_stripe_event_id,
        p_metadata, p_command ->> 'disputeId')
    when 'dispute_won' then
      money.win_dispute(p_command ->> 'paymentIntentId', p_command ->> 'disputeId', p_command ->> 'currency',
        p_stripe_event_id, p_metadata)
    else 'ignored'
  end;
  update money.stripe_events set outcome = v_outcome where stripe_event_id = p_stripe_event_id;
  return jsonb_build_object('outcome', v_outcome, 'duplicate', false);
end;
$$;
