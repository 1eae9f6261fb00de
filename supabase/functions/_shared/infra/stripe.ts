// The Stripe client and the one API call we make (Checkout Sessions). Env:
//   STRIPE_SECRET_KEY      the API key (sk_test_… / sk_live_…)
//   STRIPE_API_BASE        optional, e.g. http://127.0.0.1:54381: send API calls there instead of
//                          api.stripe.com (the local stack's devstack/fake_stripe_api.ts)
//   STRIPE_WEBHOOK_SECRET  the endpoint's signing secret (whsec_…), read by the stripe-webhook function
//   CHECKOUT_SUCCESS_URL / CHECKOUT_CANCEL_URL  where Checkout sends the buyer back
import Stripe from "stripe";

export type { Stripe };

export type StripeConfig = { secretKey: string; apiBase: string | null };

export function stripeConfigFromEnv(): StripeConfig {
  const secretKey = Deno.env.get("STRIPE_SECRET_KEY");
  if (!secretKey) throw new Error("Set STRIPE_SECRET_KEY.");
  return { secretKey, apiBase: Deno.env.get("STRIPE_API_BASE") || null };
}

export function createStripe(config: StripeConfig): Stripe {
  const base = config.apiBase ? new URL(config.apiBase) : null;
  return new Stripe(config.secretKey, {
    httpClient: Stripe.createFetchHttpClient(),
    // Every create call carries an idempotency key, so Stripe's own retries cannot double anything.
    maxNetworkRetries: 2,
    timeout: 10_000,
    ...(base
      ? {
        host: base.hostname,
        port: base.port || (base.protocol === "https:" ? "443" : "80"),
        protocol: base.protocol === "https:" ? "https" : "http",
      }
      : {}),
  });
}

let shared: Stripe | undefined;

/** The process-wide client (module scope: its HTTP client and settings live as long as the isolate). */
export function stripe(): Stripe {
  return shared ??= createStripe(stripeConfigFromEnv());
}

/** The webhook verifier needs no API key; the class's static helper is the same code. */
export const stripeWebhooks = Stripe.webhooks;

export class PaymentProviderUnavailableError extends Error {
  override name = "PaymentProviderUnavailableError";
}

export type CheckoutUrls = { successUrl: string; cancelUrl: string };

export function checkoutUrlsFromEnv(): CheckoutUrls {
  return {
    successUrl: Deno.env.get("CHECKOUT_SUCCESS_URL") ||
      "http://localhost:3000/checkout/success?session_id={CHECKOUT_SESSION_ID}",
    cancelUrl: Deno.env.get("CHECKOUT_CANCEL_URL") || "http://localhost:3000/checkout/cancel",
  };
}

export type CheckoutRequest = {
  purchaseId: string;
  packageId: string;
  packageName: string;
  priceMinor: number;
  currency: string;
};

export type CheckoutSession = { id: string; url: string };

/** One Checkout Session per purchase. Stripe's idempotency key is the purchase id, so a retry of the
 * same purchase (ours or the SDK's) gets the same session back. */
export async function createCheckoutSession(
  client: Stripe,
  urls: CheckoutUrls,
  request: CheckoutRequest,
): Promise<CheckoutSession> {
  const metadata = { purchase_id: request.purchaseId, package_id: request.packageId };
  let session: Stripe.Checkout.Session;
  try {
    session = await client.checkout.sessions.create({
      mode: "payment",
      line_items: [{
        quantity: 1,
        price_data: {
          currency: request.currency.toLowerCase(),
          unit_amount: request.priceMinor,
          product_data: { name: request.packageName },
        },
      }],
      client_reference_id: request.purchaseId,
      metadata,
      payment_intent_data: { metadata },
      success_url: urls.successUrl,
      cancel_url: urls.cancelUrl,
    }, { idempotencyKey: request.purchaseId });
  } catch (error) {
    if (
      error instanceof Stripe.errors.StripeConnectionError || error instanceof Stripe.errors.StripeAPIError ||
      error instanceof Stripe.errors.StripeRateLimitError
    ) {
      throw new PaymentProviderUnavailableError(error.message);
    }
    throw error;
  }
  if (!session.url) throw new Error(`Checkout Session ${session.id} has no url`);
  return { id: session.id, url: session.url };
}
