// ./dev pay <purchaseId>: pay a pending purchase on the local stack without Stripe. It sends the
// webhook Stripe would send after a successful Checkout (checkout.session.completed, payment_status
// "paid", a made-up payment intent), signed with STRIPE_WEBHOOK_SECRET, to the local stripe-webhook
// function, and prints what the webhook answered.
import postgres from "postgres";
import { checkoutSessionEvent, randomSuffix, signatureFor } from "./stripe_test_events.ts";

const purchaseId = Deno.args[0] ?? "";
if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(purchaseId)) {
  console.error("usage: ./dev pay <purchaseId>   (the purchaseId that POST /purchases returned)");
  Deno.exit(2);
}
const databaseUrl = Deno.env.get("DATABASE_URL") ?? "postgres://postgres@127.0.0.1:54322/postgres";
const apiUrl = Deno.env.get("API_URL") ?? "http://127.0.0.1:54321";
const secret = Deno.env.get("STRIPE_WEBHOOK_SECRET") ?? "whsec_local_development_secret";

const sql = postgres(databaseUrl, { prepare: false, max: 1, onnotice: () => {} });
const [purchase] = await sql<
  { stripe_session_id: string; amount_minor: string; currency: string; status: string }[]
>`
  select stripe_session_id, amount_minor::text, currency, status from public.purchases where purchase_id = ${purchaseId}::uuid`;
await sql.end();
if (!purchase) {
  console.error(`no purchase ${purchaseId}`);
  Deno.exit(1);
}
if (purchase.status !== "pending") {
  console.error(`purchase ${purchaseId} is ${purchase.status}, not pending; nothing to pay`);
  Deno.exit(1);
}

const event = checkoutSessionEvent("checkout.session.completed", {
  purchaseId,
  stripeSessionId: purchase.stripe_session_id,
  amountMinor: Number(purchase.amount_minor),
  currency: purchase.currency,
  paymentIntentId: `pi_local_${randomSuffix()}`,
});
const payload = JSON.stringify(event);
const response = await fetch(`${apiUrl}/functions/v1/stripe-webhook`, {
  method: "POST",
  headers: { "content-type": "application/json", "stripe-signature": await signatureFor(payload, secret) },
  body: payload,
});
const text = await response.text();
console.log(`${event.type} ${event.id} → ${response.status} ${text}`);
Deno.exit(response.ok ? 0 : 1);
