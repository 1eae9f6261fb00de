-- Purchases, contracts and commissions: the projections of the purchase stream (purchase-<id>).
create table public.purchases (
  purchase_id uuid primary key,
  user_id uuid not null,
  package_id uuid not null,
  amount_minor bigint not null,
  currency text not null,
  status text not null,
  stripe_session_id text not null,
  payment_intent_id text,
  refunded_minor bigint not null default 0,
  contract_id uuid,
  created_at timestamptz not null,
  paid_at timestamptz,
  constraint purchases_status_check check (status in ('pending', 'failed', 'paid', 'partially_refunded', 'refunded', 'disputed')),
  constraint purchases_refunded_range check (refunded_minor between 0 and amount_minor),
  constraint purchases_stripe_session_key unique (stripe_session_id),
  constraint purchases_payment_intent_key unique (payment_intent_id)
);
comment on table public.purchases is 'One row per Checkout Session started (projection of CheckoutStarted, Purchased, refunds and disputes).';
create index purchases_user_idx on public.purchases (user_id, created_at desc, purchase_id desc);

create table public.contracts (
  contract_id uuid primary key,
  user_id uuid not null,
  purchase_id uuid not null,
  package_id uuid not null,
  principal_minor bigint not null,
  currency text not null,
  daily_rate_bps int not null,
  duration_days int not null,
  total_yield_minor bigint not null,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  status text not null default 'active',
  stopped_at timestamptz,
  stopped_after_periods int,
  constraint contracts_status_check check (status in ('active', 'refunded', 'disputed')),
  constraint contracts_period_order check (ends_at > starts_at),
  constraint contracts_stop_consistent check ((status = 'active') = (stopped_after_periods is null))
);
comment on table public.contracts is 'What a purchase bought: earnings of total_yield_minor = floor(principal x daily_rate_bps x duration_days / 10000), accrued hourly over [starts_at, ends_at). A refund or dispute stops it at stopped_at, after stopped_after_periods periods. The accrued amount is derived (money.contract_accrued_minor), never stored per period.';
create index contracts_user_idx on public.contracts (user_id, starts_at desc, contract_id desc);

create table public.commissions (
  commission_id uuid primary key,
  purchase_id uuid not null,
  beneficiary_id uuid,
  level smallint not null,
  vip_level smallint,
  rate_bps int not null,
  amount_minor bigint not null,
  currency text not null,
  reason text not null,
  status text not null,
  releases_at timestamptz not null,
  reversed_minor bigint not null default 0,
  accrued_at timestamptz not null,
  constraint commissions_status_check check (status in ('pending', 'released', 'reversed', 'platform')),
  constraint commissions_reversed_range check (reversed_minor between 0 and amount_minor),
  constraint commissions_level_unique unique (purchase_id, level)
);
comment on table public.commissions is 'One row per (purchase, level 1-10). beneficiary_id null: the share went to the platform (reason no_upline or vip_ineligible). Pending until releases_at, then released to available.';
create index commissions_due_idx on public.commissions (releases_at, commission_id) where status = 'pending';
create index commissions_beneficiary_idx on public.commissions (beneficiary_id, accrued_at desc) where beneficiary_id is not null;

select projections.register_table('public.purchases', 'user_id');
select projections.register_table('public.contracts', 'user_id');
select projections.register_table('public.commissions', 'beneficiary_id');

create function projections.project_checkout(e event_store.events) returns void
language plpgsql as $$
begin
  if e.type = 'CheckoutStarted' then
    insert into public.purchases (purchase_id, user_id, package_id, amount_minor, currency, status, stripe_session_id, created_at)
    values ((e.data ->> 'purchaseId')::uuid, (e.data ->> 'userId')::uuid, (e.data ->> 'packageId')::uuid,
            (e.data ->> 'amountMinor')::bigint, e.data ->> 'currency', 'pending', e.data ->> 'stripeSessionId', e.recorded_at);
  else -- CheckoutFailed
    update public.purchases set status = 'failed' where purchase_id = (e.data ->> 'purchaseId')::uuid;
  end if;
end;
$$;

create function projections.project_purchased(e event_store.events) returns void
language plpgsql as $$
declare
  d jsonb := e.data;
  v_amount bigint := (d ->> 'amountMinor')::bigint;
  v_buyer uuid := (d ->> 'userId')::uuid;
begin
  update public.purchases
  set status = 'paid', payment_intent_id = d ->> 'paymentIntentId', contract_id = (d ->> 'contractId')::uuid, paid_at = e.recorded_at
  where purchase_id = (d ->> 'purchaseId')::uuid;
  insert into public.contracts (contract_id, user_id, purchase_id, package_id, principal_minor, currency, daily_rate_bps,
    duration_days, total_yield_minor, starts_at, ends_at)
  values ((d ->> 'contractId')::uuid, v_buyer, (d ->> 'purchaseId')::uuid, (d ->> 'packageId')::uuid, v_amount,
    d ->> 'currency', (d ->> 'dailyRateBps')::int, (d ->> 'durationDays')::int,
    floor(v_amount::numeric * (d ->> 'dailyRateBps')::int * (d ->> 'durationDays')::int / 10000)::bigint,
    (d ->> 'startsAt')::timestamptz, (d ->> 'endsAt')::timestamptz);
  perform projections.add_volume(v_buyer, v_amount);
  perform projections.post_entries(e, (d ->> 'purchaseId')::uuid,
      array['stripe_clearing', 'revenue'],
      array[-v_amount, v_amount]::bigint[],
      array[null, null]::uuid[]);
end;
$$;

create function projections.project_refund(e event_store.events) returns void
language plpgsql as $$
declare
  d jsonb := e.data;
  v_purchase public.purchases;
  v_amount bigint := (d ->> 'amountMinor')::bigint;
begin
  update public.purchases
  set refunded_minor = refunded_minor + v_amount,
      status = case when e.type = 'PurchaseDisputed' then 'disputed'
                    when refunded_minor + v_amount = amount_minor then 'refunded'
                    else 'partially_refunded' end
  where purchase_id = (d ->> 'purchaseId')::uuid
  returning * into v_purchase;
  -- Any refund or dispute stops the contract from that moment (CONTRACT: "stops accruing").
  update public.contracts c
  set status = case when e.type = 'PurchaseDisputed' then 'disputed' else 'refunded' end,
      stopped_at = coalesce(c.stopped_at, e.recorded_at),
      stopped_after_periods = coalesce(c.stopped_after_periods, money.contract_periods_accrued(c.starts_at, c.ends_at, null))
  where contract_id = v_purchase.contract_id;
  perform projections.add_volume(v_purchase.user_id, -v_amount);
  perform projections.post_entries(e, v_purchase.purchase_id,
      array['revenue', 'stripe_clearing'],
      array[-v_amount, v_amount]::bigint[],
      array[null, null]::uuid[]);
end;
$$;

-- CommissionAccrued, a run at a time (ten per purchase; thousands in a rebuild): the commission rows,
-- each beneficiary's pending balance and commission total, and two ledger lines per commission, whose
-- balances before/after run through the batch in position order exactly as one-by-one posting would.
create function projections.project_commissions_accrued(p_events event_store.events[]) returns void
language plpgsql as $$
begin
  if exists (
    select from unnest(p_events) e
    where e.data ->> 'beneficiaryId' is not null
      and not exists (select from public.user_accounts a where a.user_id = (e.data ->> 'beneficiaryId')::uuid)
  ) then
    raise exception 'a commission for a user without an account' using errcode = 'MO500';
  end if;
  with ev as (
    select e.position, e.recorded_at, (e.data ->> 'commissionId')::uuid as commission_id,
           (e.data ->> 'purchaseId')::uuid as purchase_id, (e.data ->> 'beneficiaryId')::uuid as beneficiary_id,
           (e.data ->> 'level')::smallint as level, (e.data ->> 'vipLevel')::smallint as vip_level,
           (e.data ->> 'rateBps')::int as rate_bps, (e.data ->> 'amountMinor')::bigint as amount_minor,
           e.data ->> 'currency' as currency, e.data ->> 'reason' as reason, (e.data ->> 'releasesAt')::timestamptz as releases_at
    from unnest(p_events) e
  ), inserted as (
    insert into public.commissions (commission_id, purchase_id, beneficiary_id, level, vip_level, rate_bps, amount_minor,
      currency, reason, status, releases_at, accrued_at)
    select commission_id, purchase_id, beneficiary_id, level, vip_level, rate_bps, amount_minor, currency, reason,
           case when beneficiary_id is null then 'platform' else 'pending' end, releases_at, recorded_at
    from ev
  ), per_user as (
    select beneficiary_id, sum(amount_minor) as total from ev where beneficiary_id is not null group by beneficiary_id
  ), credited as (
    update public.user_accounts a
    set pending_minor = a.pending_minor + p.total, commission_minor = a.commission_minor + p.total
    from per_user p where a.user_id = p.beneficiary_id
    returning a.user_id, a.pending_minor as pending_after_run
  ), user_lines as (
    select ev.*, c.pending_after_run - coalesce(sum(ev.amount_minor) over (partition by ev.beneficiary_id
             order by ev.position desc rows between unbounded preceding and 1 preceding), 0) as after_minor
    from ev join credited c on c.user_id = ev.beneficiary_id
  )
  insert into public.ledger_entries (event_position, line, account, user_id, amount_minor, balance_before_minor,
    balance_after_minor, currency, event_type, reference_id, recorded_at)
  select position, 1, 'platform:commission_expense', null::uuid, -amount_minor, null::bigint, null::bigint, currency,
         'CommissionAccrued',
         commission_id, recorded_at
  from ev where amount_minor <> 0
  union all
  select position, 2, 'platform:commission_unassigned', null, amount_minor, null, null, currency,
         'CommissionAccrued',
         commission_id, recorded_at
  from ev where amount_minor <> 0 and beneficiary_id is null
  union all
  select position, 2, 'user:pending', beneficiary_id, amount_minor, after_minor - amount_minor, after_minor, currency,
         'CommissionAccrued', commission_id, recorded_at
  from user_lines where amount_minor <> 0;
end;
$$;

create function projections.project_commission(e event_store.events) returns void
language plpgsql as $$
declare
  d jsonb := e.data;
  c public.commissions;
  v_amount bigint := (d ->> 'amountMinor')::bigint;
begin
  if e.type = 'CommissionReleased' then
    update public.commissions set status = 'released' where commission_id = (d ->> 'commissionId')::uuid returning * into c;
    perform projections.post_entries(e, c.commission_id,
        array['pending', 'available'],
        array[-v_amount, v_amount]::bigint[],
        array[c.beneficiary_id, c.beneficiary_id]::uuid[]);
  else -- CommissionReversed
    update public.commissions
    set reversed_minor = reversed_minor + v_amount,
        status = case when reversed_minor + v_amount = amount_minor and status = 'pending' then 'reversed' else status end
    where commission_id = (d ->> 'commissionId')::uuid
    returning * into c;
    if c.beneficiary_id is null then
      perform projections.post_entries(e, c.commission_id,
          array['commission_unassigned', 'commission_expense'],
          array[-v_amount, v_amount]::bigint[],
          array[null, null]::uuid[]);
    else
      update public.user_accounts set commission_minor = commission_minor - v_amount where user_id = c.beneficiary_id;
      perform projections.post_entries(e, c.commission_id,
          array['pending', 'available', 'owed', 'commission_expense'],
          array[-(d ->> 'fromPendingMinor')::bigint, -(d ->> 'fromAvailableMinor')::bigint, -(d ->> 'owedMinor')::bigint, v_amount]::bigint[],
          array[c.beneficiary_id, c.beneficiary_id, c.beneficiary_id, null]::uuid[]);
    end if;
  end if;
end;
$$;

insert into projections.handlers (event_type, handler, priority) values
  ('CheckoutStarted', 'projections.project_checkout(event_store.events)'::regprocedure, 10),
  ('CheckoutFailed', 'projections.project_checkout(event_store.events)'::regprocedure, 10),
  ('Purchased', 'projections.project_purchased(event_store.events)'::regprocedure, 10),
  ('PurchaseRefunded', 'projections.project_refund(event_store.events)'::regprocedure, 10),
  ('PurchaseDisputed', 'projections.project_refund(event_store.events)'::regprocedure, 10),
  ('CommissionReleased', 'projections.project_commission(event_store.events)'::regprocedure, 10),
  ('CommissionReversed', 'projections.project_commission(event_store.events)'::regprocedure, 10);
insert into projections.handlers (event_type, handler, priority, batch)
values ('CommissionAccrued', 'projections.project_commissions_accrued(event_store.events[])'::regprocedure, 10, true);
