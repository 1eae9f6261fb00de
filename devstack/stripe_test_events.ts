// Stripe events as Stripe would send them (the fields Accrue reads, in Stripe's shapes), signed the
// way Stripe signs them. For ./dev pay and tests only; production never builds events.
import Stripe from "stripe";

export type StripeEventJson = {
  id: string;
  object: "event";
  type: string;
  data: { object: Record<string, unknown> };
} & Record<string, unknown>;

export const randomSuffix = () => crypto.randomUUID().replaceAll("-", "").slice(0, 24);

export function stripeEvent(
  type: string,
  object: Record<string, unknown>,
  id = `evt_local_${randomSuffix()}`,
): StripeEventJson {
  return {
    id,
    object: "event",
    api_version: "2025-09-30.clover",
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  };
}

export type SessionFacts = {
  purchaseId: string;
  stripeSessionId: string;
  amountMinor: number;
  currency: string;
  paymentIntentId: string | null;
  paymentStatus?: "paid" | "unpaid" | "no_payment_required";
};

export function checkoutSessionEvent(
  type:
    | "checkout.session.completed"
    | "checkout.session.async_payment_succeeded"
    | "checkout.session.async_payment_failed",
  s: SessionFacts,
): StripeEventJson {
  return stripeEvent(type, {
    id: s.stripeSessionId,
    object: "checkout.session",
    amount_subtotal: s.amountMinor,
    amount_total: s.amountMinor,
    client_reference_id: s.purchaseId,
    currency: s.currency.toLowerCase(),
    livemode: false,
    metadata: { purchase_id: s.purchaseId },
    mode: "payment",
    payment_intent: s.paymentIntentId,
    payment_status: s.paymentStatus ?? "paid",
    status: "complete",
  });
}

export function chargeRefundedEvent(
  paymentIntentId: string,
  amountMinor: number,
  refundedTotalMinor: number,
  currency: string,
) {
  return stripeEvent("charge.refunded", {
    id: `ch_local_${randomSuffix()}`,
    object: "charge",
    amount: amountMinor,
    amount_refunded: refundedTotalMinor,
    currency: currency.toLowerCase(),
    payment_intent: paymentIntentId,
    refunded: refundedTotalMinor === amountMinor,
  });
}

export function disputeCreatedEvent(
  paymentIntentId: string,
  amountMinor: number,
  currency: string,
  disputeId = `dp_local_${randomSuffix()}`,
) {
  return stripeEvent(
    "charge.dispute.created",
    disputeObject(disputeId, paymentIntentId, amountMinor, currency, "needs_response"),
  );
}

/** charge.dispute.closed for the dispute disputeCreatedEvent opened, with its final status. */
export function disputeClosedEvent(
  disputeId: string,
  paymentIntentId: string,
  amountMinor: number,
  currency: string,
  status: "won" | "lost",
) {
  return stripeEvent(
    "charge.dispute.closed",
    disputeObject(disputeId, paymentIntentId, amountMinor, currency, status),
  );
}

function disputeObject(
  id: string,
  paymentIntentId: string,
  amountMinor: number,
  currency: string,
  status: string,
) {
  return {
    id,
    object: "dispute",
    amount: amountMinor,
    charge: `ch_local_${randomSuffix()}`,
    currency: currency.toLowerCase(),
    payment_intent: paymentIntentId,
    reason: "fraudulent",
    status,
  };
}

/** The Stripe-Signature header for this exact payload (timestamp in seconds, default now). */
export function signatureFor(payload: string, secret: string, timestamp?: number): Promise<string> {
  return Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret,
    ...(timestamp === undefined ? {} : { timestamp }),
  });
}
