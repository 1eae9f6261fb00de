-- Refunds, disputes and commissions that no longer hold (issue "Close the leaks", items 1 and 4).
--
-- Earnings: a refund or a lost dispute claws back the earnings paid on the purchase's contract in
-- proportion to what was refunded, floor(accrued x refunded_total / price) in all (exact at a full
-- refund), by an EarningsReversed event: from available, the rest recorded as owed, never an edit.
--
-- Commissions commission.vip_reversed_minor records what a VIP re-evaluation took back (below), apart
-- from refunds, so a won dispute restores only what the dispute reversed.
alter table public.contracts add column earnings_reversed_minor bigint not null default 0;
comment on column public.contracts.earnings_reversed_minor is 'Earnings of this contract clawed back by refunds and disputes (EarningsReversed), net of restorations.';
alter table public.purchases add column disputed_minor bigint not null default 0;
alter table public.purchases add column dispute_id text;
-- Purchases disputed before this column existed: what their disputes took, as a rebuild computes it.
update public.purchases p set disputed_minor = d.total_minor
from (select (data ->> 'purchaseId')::uuid as purchase_id, sum((data ->> 'amountMinor')::bigint) as total_minor
      from event_store.events where type = 'PurchaseDisputed' group by 1) d
where p.purchase_id = d.purchase_id;
comment on column public.purchases.disputed_minor is 'The part of refunded_minor the open or lost dispute took (restored if it is won).';
alter table public.commissions add column vip_reversed_minor bigint not null default 0;
comment on column public.commissions.vip_reversed_minor is 'The part of reversed_minor taken back because the beneficiary''s VIP level fell after a refund of volume it stood on.';

create or replace function projections.project_refund(e event_store.events) returns void
language plpgsql as $$
declare
  d jsonb := e.data;
  v_purchase public.purchases;
  v_amount bigint := (d ->> 'amountMinor')::bigint;
  v_dispute boolean := e.type = 'PurchaseDisputed';
begin
  update public.purchases
  set refunded_minor = refunded_minor + v_amount,
      disputed_minor = disputed_minor + case when v_dispute then v_amount else 0 end,
      dispute_id = case when v_dispute then d ->> 'disputeId' else dispute_id end,
      status = case when v_dispute then 'disputed'
                    when refunded_minor + v_amount = amount_minor then 'refunded'
                    else 'partially_refunded' end
  where purchase_id = (d ->> 'purchaseId')::uuid
  returning * into v_purchase;
  -- Any refund or dispute stops the contract from that moment (CONTRACT: "stops accruing").
  update public.contracts c
  set status = case when v_dispute then 'disputed' else 'refunded' end,
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

-- EarningsReversed: the clawback of a contract's earnings. EarningsRestored: a won dispute gives back
-- what it took, plus, when the contract resumes, the periods it missed while stopped.
create function projections.project_contract_earnings(e event_store.events) returns void
language plpgsql as $$
declare
  d jsonb := e.data;
  v_contract_id uuid := (d ->> 'contractId')::uuid;
  v_user_id uuid := (d ->> 'userId')::uuid;
  v_amount bigint := (d ->> 'amountMinor')::bigint;
begin
  if e.type = 'EarningsReversed' then
    update public.contracts set earnings_reversed_minor = earnings_reversed_minor + v_amount where contract_id = v_contract_id;
    update public.user_accounts set earned_minor = earned_minor - v_amount where user_id = v_user_id;
    perform projections.post_entries(e, v_contract_id,
        array['available', 'owed', 'earnings_expense'],
        array[-(d ->> 'fromAvailableMinor')::bigint, -(d ->> 'owedMinor')::bigint, v_amount]::bigint[],
        array[v_user_id, v_user_id, null]::uuid[]);
  else -- EarningsRestored
    update public.contracts set earnings_reversed_minor = earnings_reversed_minor - (d ->> 'restoredMinor')::bigint
    where contract_id = v_contract_id;
    update public.user_accounts set earned_minor = earned_minor + v_amount where user_id = v_user_id;
    perform projections.post_credit(e, v_contract_id, v_user_id, v_amount, 'earnings_expense', null);
  end if;
end;
$$;

-- DisputeWon: the purchase stands again (its refunds before the dispute stay), its volume counts
-- again, and its contract resumes when nothing else (a refund) stopped it.
create function projections.project_dispute_won(e event_store.events) returns void
language plpgsql as $$
declare
  d jsonb := e.data;
  v_purchase public.purchases;
  v_amount bigint := (d ->> 'amountMinor')::bigint;
begin
  update public.purchases
  set refunded_minor = refunded_minor - v_amount,
      disputed_minor = disputed_minor - v_amount,
      status = case when refunded_minor - v_amount = 0 then 'paid' else 'partially_refunded' end
  where purchase_id = (d ->> 'purchaseId')::uuid
  returning * into v_purchase;
  update public.contracts
  set status = case when v_purchase.refunded_minor = 0 then 'active' else 'refunded' end,
      stopped_at = case when v_purchase.refunded_minor = 0 then null else stopped_at end,
      stopped_after_periods = case when v_purchase.refunded_minor = 0 then null else stopped_after_periods end
  where contract_id = v_purchase.contract_id;
  perform projections.add_volume(v_purchase.user_id, v_amount);
  perform projections.post_entries(e, v_purchase.purchase_id,
      array['stripe_clearing', 'revenue'],
      array[-v_amount, v_amount]::bigint[],
      array[null, null]::uuid[]);
end;
$$;

-- Commissions: released (paying debt first), reversed (a refund's share, or a VIP re-evaluation's),
-- restored (a won dispute: back to pending inside the hold, else a credit to available).
create or replace function projections.project_commission(e event_store.events) returns void
language plpgsql as $$
declare
  d jsonb := e.data;
  c public.commissions;
  v_amount bigint := (d ->> 'amountMinor')::bigint;
begin
  if e.type = 'CommissionReleased' then
    update public.commissions set status = 'released' where commission_id = (d ->> 'commissionId')::uuid returning * into c;
    perform projections.post_credit(e, c.commission_id, c.beneficiary_id, v_amount, 'pending', c.beneficiary_id);
  elsif e.type = 'CommissionRestored' then
    update public.commissions
    set reversed_minor = reversed_minor - v_amount,
        status = case when status = 'reversed' then 'pending' else status end
    where commission_id = (d ->> 'commissionId')::uuid
    returning * into c;
    if c.beneficiary_id is null then
      perform projections.post_entries(e, c.commission_id,
          array['commission_expense', 'commission_unassigned'],
          array[-v_amount, v_amount]::bigint[],
          array[null, null]::uuid[]);
    else
      update public.user_accounts set commission_minor = commission_minor + v_amount where user_id = c.beneficiary_id;
      if (d ->> 'toPendingMinor')::bigint > 0 then
        perform projections.post_entries(e, c.commission_id,
            array['commission_expense', 'pending'],
            array[-v_amount, v_amount]::bigint[],
            array[null, c.beneficiary_id]::uuid[]);
      else
        perform projections.post_credit(e, c.commission_id, c.beneficiary_id, v_amount, 'commission_expense', null);
      end if;
    end if;
  else -- CommissionReversed
    update public.commissions
    set reversed_minor = reversed_minor + v_amount,
        vip_reversed_minor = vip_reversed_minor + case when d ->> 'reason' = 'vip_recomputed' then v_amount else 0 end,
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
  ('EarningsReversed', 'projections.project_contract_earnings(event_store.events)'::regprocedure, 10),
  ('EarningsRestored', 'projections.project_contract_earnings(event_store.events)'::regprocedure, 10),
  ('DisputeWon', 'projections.project_dispute_won(event_store.events)'::regprocedure, 10),
  ('CommissionRestored', 'projections.project_commission(event_store.events)'::regprocedure, 10);
