// The stripe-webhook function: POST /stripe-webhook, called by Stripe (CONTRACT.md, DESIGN.md §6).
//   1. the raw body (≤ 1 MiB) is verified against Stripe-Signature with STRIPE_WEBHOOK_SECRET
//      (constructEventAsync: in Deno only the async verifier works); missing, wrong or too old
//      (> 300 s) → 400 invalid_signature, and nothing is recorded
//   2. the event becomes a command for the money core (_shared/domain/payments/stripe_command.ts)
//   3. ONE call, money.handle_stripe_event, records the event id under a UNIQUE constraint in the
//      same transaction as the domain events: a redelivery, concurrent or days later, changes nothing
//   4. 200 {received: true, outcome, duplicate} once recorded; a database failure is a 5xx, so
//      Stripe retries. A signed event we cannot use is recorded as ignored (200), never a 500.
// No rate limit: every request must carry a valid HMAC before it costs more than the hash, and
// throttling Stripe would only delay money.
import { createApp, json } from "../_shared/http/app.ts";
import { JSON_BODY_LIMIT_BYTES, readBodyBytes } from "../_shared/http/body.ts";
import { Problem, problems } from "../_shared/http/problem.ts";
import { db, type Sql } from "../_shared/infra/db.ts";
import { handleStripeEvent } from "../_shared/infra/purchase_store.ts";
import { stripeWebhooks } from "../_shared/infra/stripe.ts";
import { commandFor, stripeEventEnvelope } from "../_shared/domain/payments/stripe_command.ts";

/** Stripe's default tolerance for the signature's timestamp. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export type StripeWebhookDeps = {
  sql: () => Sql;
  webhookSecret: string;
  toleranceSeconds?: number;
};

const invalidSignature = (detail: string) =>
  new Problem(400, "invalid_signature", "Invalid signature", detail);

export function createStripeWebhookHandler(deps: StripeWebhookDeps) {
  const tolerance = deps.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS;

  async function receive(req: Request, requestId: string): Promise<Response> {
    const signature = req.headers.get("stripe-signature");
    if (!signature) throw invalidSignature("The Stripe-Signature header is missing.");
    const bytes = await readBodyBytes(req, JSON_BODY_LIMIT_BYTES);
    let payload: string;
    try {
      payload = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw invalidSignature("The body is not UTF-8, so it is not what Stripe signed.");
    }
    let event: unknown;
    try {
      event = await stripeWebhooks.constructEventAsync(payload, signature, deps.webhookSecret, tolerance);
    } catch (error) {
      // Signature failures and a signed body that is not JSON alike: not an event we can record.
      if (error instanceof SyntaxError) throw problems.invalidJson();
      throw invalidSignature("The Stripe-Signature does not match this body, secret and time.");
    }
    const envelope = stripeEventEnvelope.safeParse(event);
    if (!envelope.success) {
      throw problems.badRequest("A signed body that is not a Stripe event (no id, type or data).");
    }
    const command = commandFor(envelope.data);
    const result = await handleStripeEvent(deps.sql(), envelope.data.id, envelope.data.type, command, {
      requestId,
    });
    if (result.outcome === "amount_mismatch" || result.outcome === "unknown_purchase") {
      // Money may have arrived that we did not credit: someone must look (the event id finds it).
      console.warn(JSON.stringify({
        time: new Date().toISOString(),
        level: "warn",
        function: "stripe-webhook",
        requestId,
        stripeEventId: envelope.data.id,
        outcome: result.outcome,
      }));
    }
    return json({ received: true, outcome: result.outcome, duplicate: result.duplicate });
  }

  return createApp({
    functionName: "stripe-webhook",
    // Stripe calls from its servers, never from a browser: no CORS.
    allowedOrigins: [],
    routes: [{ method: "POST", path: "/", handler: (ctx) => receive(ctx.req, ctx.requestId) }],
  });
}

let built: ((req: Request) => Promise<Response>) | undefined;

/** Built on first use, so a missing secret fails this function only, not the gateway. */
export const handler = (req: Request) =>
  (built ??= createStripeWebhookHandler({ sql: db, webhookSecret: webhookSecretFromEnv() }))(req);

function webhookSecretFromEnv(): string {
  const secret = Deno.env.get("STRIPE_WEBHOOK_SECRET");
  if (!secret) throw new Error("Set STRIPE_WEBHOOK_SECRET.");
  return secret;
}
