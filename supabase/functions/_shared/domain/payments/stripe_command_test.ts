// Stripe event → money command, given/when/then, no I/O.
import assert from "node:assert/strict";
import { commandFor, type StripeEventEnvelope } from "./stripe_command.ts";

const purchaseId = "5b0e5c2e-8d0a-4a4e-9d1e-3f3b7f6f0a11";
const event = (type: string, object: unknown): StripeEventEnvelope => ({
  id: "evt_1",
  type,
  data: { object },
});
const session = (over: Record<string, unknown> = {}) => ({
  object: "checkout.session",
  payment_status: "paid",
  metadata: { purchase_id: purchaseId },
  client_reference_id: purchaseId,
  payment_intent: "pi_1",
  amount_total: 9999,
  currency: "usd",
  ...over,
});

Deno.test("a paid checkout session is a payment, amounts and currency as Stripe sent them", () => {
  for (const type of ["checkout.session.completed", "checkout.session.async_payment_succeeded"]) {
    assert.deepEqual(commandFor(event(type, session())), {
      kind: "payment_succeeded",
      purchaseId,
      paymentIntentId: "pi_1",
      amountMinor: 9999,
      currency: "USD",
    });
  }
});

Deno.test("an unpaid completion is ignored (the async payment is still pending)", () => {
  assert.equal(
    commandFor(event("checkout.session.completed", session({ payment_status: "unpaid" }))).kind,
    "ignore",
  );
});

Deno.test("the purchase id comes from metadata, else client_reference_id; an expanded payment intent works", () => {
  const c = commandFor(
    event("checkout.session.completed", session({ metadata: {}, payment_intent: { id: "pi_2" } })),
  );
  assert.deepEqual([c.kind, "purchaseId" in c && c.purchaseId, "paymentIntentId" in c && c.paymentIntentId], [
    "payment_succeeded",
    purchaseId,
    "pi_2",
  ]);
  const none = commandFor(
    event("checkout.session.completed", session({ metadata: null, client_reference_id: null })),
  );
  assert.equal(none.kind, "ignore");
});

Deno.test("failures, refunds and disputes", () => {
  assert.deepEqual(
    commandFor(event("checkout.session.async_payment_failed", session({ payment_status: "unpaid" }))),
    {
      kind: "payment_failed",
      purchaseId,
    },
  );
  assert.deepEqual(
    commandFor(
      event("charge.refunded", {
        object: "charge",
        payment_intent: "pi_1",
        amount_refunded: 3333,
        currency: "usd",
      }),
    ),
    { kind: "refund", paymentIntentId: "pi_1", refundedTotalMinor: 3333, currency: "USD" },
  );
  assert.deepEqual(
    commandFor(
      event("charge.dispute.created", {
        id: "dp_1",
        object: "dispute",
        payment_intent: "pi_1",
        currency: "usd",
      }),
    ),
    { kind: "dispute", paymentIntentId: "pi_1", disputeId: "dp_1", currency: "USD" },
  );
});

Deno.test("a dispute closed as won gives the purchase back; closed as lost it stays taken", () => {
  const closed = (status: string) =>
    commandFor(
      event("charge.dispute.closed", {
        id: "dp_1",
        object: "dispute",
        payment_intent: { id: "pi_1", object: "payment_intent" },
        currency: "usd",
        status,
      }),
    );
  assert.deepEqual(closed("won"), {
    kind: "dispute_won",
    paymentIntentId: "pi_1",
    disputeId: "dp_1",
    currency: "USD",
  });
  assert.equal(closed("lost").kind, "ignore");
  assert.equal(closed("warning_closed").kind, "ignore");
});

Deno.test("malformed objects, disputes without an id and other types are ignored, never thrown", () => {
  const odd = [
    event("checkout.session.completed", "garbage"),
    event("checkout.session.completed", session({ amount_total: -1 })),
    event("checkout.session.completed", session({ amount_total: 1.5 })),
    event("checkout.session.completed", session({ currency: "dollars" })),
    event("charge.refunded", {
      object: "charge",
      amount_refunded: 10,
      currency: "usd",
      payment_intent: null,
    }),
    event("charge.refunded", null),
    event("charge.dispute.closed", {
      object: "dispute",
      payment_intent: "pi_1",
      currency: "usd",
      status: "won",
    }), // no dispute id: cannot be matched to the dispute it closes
    event("invoice.paid", { object: "invoice" }),
  ];
  for (const e of odd) assert.equal(commandFor(e).kind, "ignore", JSON.stringify(e));
});
