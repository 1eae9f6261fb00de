-- Stripe webhooks: each Stripe event id is recorded under a UNIQUE constraint in the same transaction
-- as the domain events it causes, so a redelivery (concurrent or days later) changes nothing.
create table money.stripe_events (
  stripe_event_id text primary key,
  event_type text not null,
  outcome text,
  received_at timestamptz not null default now()
);
comment on table money.stripe_events is 'Every Stripe event handled, with what it did (purchased, duplicate, refunded, deferred, ignored, ...).';

-- p_command is what the webhook function read from the verified Stripe event:
--   {"kind": "payment_succeeded", "purchaseId", "paymentIntentId", "amountMinor", "currency"}
--   {"kind": "payment_failed", "purchaseId"}
--   {"kind": "refund", "paymentIntentId", "refundedTotalMinor", "currency"}
--   {"kind": "dispute", "paymentIntentId", "currency"}
--   {"kind": "ignore"}
-- Returns {"outcome": text, "duplicate": bool}.
create function money.handle_stripe_event(
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
      money.refund_purchase(p_command ->> 'paymentIntentId', 0, p_command ->> 'currency', 'dispute', p_stripe_event_id, p_metadata)
    else 'ignored'
  end;
  update money.stripe_events set outcome = v_outcome where stripe_event_id = p_stripe_event_id;
  return jsonb_build_object('outcome', v_outcome, 'duplicate', false);
end;
$$;
