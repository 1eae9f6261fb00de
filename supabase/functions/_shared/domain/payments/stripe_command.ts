// What a verified Stripe event asks of the money core: the p_command of money.handle_stripe_event
// (supabase/migrations/20261122060007_create_stripe_events.sql). Pure: no I/O.
//   checkout.session.completed          payment_succeeded, only when payment_status is "paid"
//                                       ("unpaid" means an asynchronous method is still pending)
//   checkout.session.async_payment_succeeded  payment_succeeded
//   checkout.session.async_payment_failed     payment_failed
//   charge.refunded                     refund (Stripe's cumulative amount_refunded)
//   charge.dispute.created              dispute (the whole amount), with Stripe's dispute id
//   charge.dispute.closed, status won   dispute_won (what the dispute took stands again)
//   anything else (a dispute closed as lost stays as it is), and any event whose object does not
//   have the fields we need             ignore (recorded, so it is never retried)
import { z } from "zod";

export type StripeCommand =
  | {
    kind: "payment_succeeded";
    purchaseId: string;
    paymentIntentId: string | null;
    amountMinor: number;
    currency: string;
  }
  | { kind: "payment_failed"; purchaseId: string }
  | { kind: "refund"; paymentIntentId: string; refundedTotalMinor: number; currency: string }
  | { kind: "dispute" | "dispute_won"; paymentIntentId: string; disputeId: string; currency: string }
  | { kind: "ignore"; reason: string };

/** Ids Stripe generates are short ASCII; anything else cannot be one of ours. */
const stripeId = z.string().min(1).max(255);
const amountMinor = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const currency = z.string().regex(/^[A-Za-z]{3}$/).transform((c) => c.toUpperCase());
/** An id, or the object when the sender expanded it. */
const expandable = z.union([stripeId, z.looseObject({ id: stripeId })]).transform((
  v,
) => (typeof v === "string" ? v : v.id));

const checkoutSession = z.looseObject({
  object: z.literal("checkout.session"),
  payment_status: z.string(),
  metadata: z.record(z.string(), z.string()).nullish(),
  client_reference_id: z.string().max(255).nullish(),
  payment_intent: expandable.nullish(),
  amount_total: amountMinor.nullish(),
  currency: currency.nullish(),
});
const charge = z.looseObject({
  object: z.literal("charge"),
  payment_intent: expandable.nullish(),
  amount_refunded: amountMinor,
  currency,
});
const dispute = z.looseObject({
  id: stripeId,
  object: z.literal("dispute"),
  payment_intent: expandable.nullish(),
  currency,
  status: z.string().max(64).nullish(),
});

/** The envelope every Stripe event has; anything without it is refused before it is recorded. */
export const stripeEventEnvelope = z.looseObject({
  id: stripeId,
  type: z.string().min(1).max(255),
  data: z.looseObject({ object: z.unknown() }),
});
export type StripeEventEnvelope = z.infer<typeof stripeEventEnvelope>;

export function commandFor(event: StripeEventEnvelope): StripeCommand {
  const object = event.data.object;
  switch (event.type) {
    case "checkout.session.completed":
    case "checkout.session.async_payment_succeeded": {
      const session = checkoutSession.safeParse(object);
      if (!session.success) return malformed(session.error);
      const s = session.data;
      if (s.payment_status !== "paid") {
        return { kind: "ignore", reason: `payment_status ${s.payment_status}` };
      }
      const purchaseId = s.metadata?.purchase_id ?? s.client_reference_id;
      if (!purchaseId) return { kind: "ignore", reason: "no purchase id" };
      if (s.amount_total == null || !s.currency) return { kind: "ignore", reason: "no amount" };
      return {
        kind: "payment_succeeded",
        purchaseId,
        paymentIntentId: s.payment_intent ?? null,
        amountMinor: s.amount_total,
        currency: s.currency,
      };
    }
    case "checkout.session.async_payment_failed": {
      const session = checkoutSession.safeParse(object);
      if (!session.success) return malformed(session.error);
      const purchaseId = session.data.metadata?.purchase_id ?? session.data.client_reference_id;
      return purchaseId
        ? { kind: "payment_failed", purchaseId }
        : { kind: "ignore", reason: "no purchase id" };
    }
    case "charge.refunded": {
      const parsed = charge.safeParse(object);
      if (!parsed.success) return malformed(parsed.error);
      const c = parsed.data;
      if (!c.payment_intent) return { kind: "ignore", reason: "charge without payment_intent" };
      return {
        kind: "refund",
        paymentIntentId: c.payment_intent,
        refundedTotalMinor: c.amount_refunded,
        currency: c.currency,
      };
    }
    case "charge.dispute.created":
    case "charge.dispute.closed": {
      const parsed = dispute.safeParse(object);
      if (!parsed.success) return malformed(parsed.error);
      const d = parsed.data;
      if (!d.payment_intent) return { kind: "ignore", reason: "dispute without payment_intent" };
      const closed = event.type === "charge.dispute.closed";
      if (closed && d.status !== "won") {
        return { kind: "ignore", reason: `dispute closed ${d.status ?? "?"}` };
      }
      return {
        kind: closed ? "dispute_won" : "dispute",
        paymentIntentId: d.payment_intent,
        disputeId: d.id,
        currency: d.currency,
      };
    }
    default:
      return { kind: "ignore", reason: `unhandled type ${event.type}` };
  }
}

function malformed(error: z.ZodError): StripeCommand {
  const first = error.issues[0];
  return { kind: "ignore", reason: `malformed: ${first ? `${first.path.join(".")} ${first.message}` : "?"}` };
}
