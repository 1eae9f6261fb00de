// The fake Stripe API speaks enough of Stripe's wire format for the real SDK.
import assert from "node:assert/strict";
import { createCheckoutSession, createStripe } from "../supabase/functions/_shared/infra/stripe.ts";
import { parseStripeForm, startFakeStripeApi } from "./fake_stripe_api.ts";

Deno.test("Stripe's bracket form encoding parses into nested objects and arrays", () => {
  assert.deepEqual(
    parseStripeForm(
      "mode=payment&line_items[0][quantity]=1&line_items[0][price_data][unit_amount]=5&metadata[a]=b",
    ),
    {
      mode: "payment",
      line_items: [{ quantity: "1", price_data: { unit_amount: "5" } }],
      metadata: { a: "b" },
    },
  );
});

Deno.test("the real SDK creates and retrieves sessions; the same idempotency key gets the same session", async () => {
  const api = startFakeStripeApi();
  try {
    const stripe = createStripe({ secretKey: "sk_test_fake", apiBase: api.url });
    const urls = { successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" };
    const request = {
      purchaseId: crypto.randomUUID(),
      packageId: crypto.randomUUID(),
      packageName: "P",
      priceMinor: 1234,
      currency: "USD",
    };
    const first = await createCheckoutSession(stripe, urls, request);
    const again = await createCheckoutSession(stripe, urls, request);
    assert.equal(again.id, first.id);
    const session = await stripe.checkout.sessions.retrieve(first.id);
    assert.equal(session.amount_total, 1234);
    assert.equal(session.payment_status, "unpaid");
    assert.equal(session.client_reference_id, request.purchaseId);
    await assert.rejects(stripe.checkout.sessions.retrieve("cs_test_nope"), /No such checkout.session/);
    const wrongKey = createStripe({ secretKey: "sk_live_real", apiBase: api.url });
    await assert.rejects(
      createCheckoutSession(wrongKey, urls, { ...request, purchaseId: crypto.randomUUID() }),
      /Invalid API Key/,
    );
  } finally {
    await api.close();
  }
});
