// A FAKE of Stripe's REST API, for the local stack and tests only: there is no Stripe account here,
// and stripe-mock is not installable. It sits where api.stripe.com would be (the edge of the
// internet) and implements just what Accrue calls, in Stripe's wire format:
//   POST /v1/checkout/sessions        form-encoded like Stripe's API; honours Idempotency-Key
//   GET  /v1/checkout/sessions/:id
// plus GET /c/pay/:id, a stand-in for the hosted checkout page, which tells you to run ./dev pay.
// Payments never happen here: `./dev pay <purchaseId>` sends the signed webhook Stripe would send.
// Production code points at it only when STRIPE_API_BASE is set (devstack/stack.sh sets it locally).

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Form = { [key: string]: string | Form | Form[] | string[] };

export type FakeSession = Record<string, Json>;

export type FakeStripeApi = {
  url: string;
  port: number;
  sessions: Map<string, FakeSession>;
  /** Every create request's form body, for tests that check what we sent. */
  requests: Form[];
  close(): Promise<void>;
};

const BODY_LIMIT_BYTES = 256 * 1024;

/** Stripe's bracket notation (a[b][0][c]=v) into nested objects and arrays. */
export function parseStripeForm(body: string): Form {
  const root: Form = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const parts = rawKey.replace(/\]/g, "").split("[");
    let node: Record<string, unknown> = root;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) {
        node[part] = value;
        return;
      }
      const nextIsIndex = /^\d+$/.test(parts[i + 1]!);
      node[part] ??= nextIsIndex ? [] : {};
      node = node[part] as Record<string, unknown>;
    });
  }
  return root;
}

function stripeError(status: number, message: string, param?: string): Response {
  return Response.json({
    error: {
      type: "invalid_request_error",
      message,
      ...(param ? { param } : {}),
      ...(status === 404 ? { code: "resource_missing" } : {}),
    },
  }, { status });
}

function randomId(prefix: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(58));
  return prefix + Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

function createSession(form: Form, baseUrl: string): FakeSession | Response {
  if (form.mode !== "payment") return stripeError(400, "Only mode=payment is faked.", "mode");
  if (typeof form.success_url !== "string") {
    return stripeError(400, "Missing required param: success_url.", "success_url");
  }
  const items = form.line_items;
  if (!Array.isArray(items) || items.length === 0) {
    return stripeError(400, "Missing required param: line_items.", "line_items");
  }
  let amountTotal = 0;
  let currency: string | null = null;
  for (const [i, raw] of items.entries()) {
    const item = raw as Form;
    const price = item.price_data as Form | undefined;
    const quantity = Number(item.quantity ?? "1");
    const unitAmount = Number(price?.unit_amount);
    if (!price || typeof price.currency !== "string" || !Number.isSafeInteger(unitAmount) || unitAmount < 0) {
      return stripeError(
        400,
        "line_items need price_data with currency and unit_amount.",
        `line_items[${i}][price_data]`,
      );
    }
    // Stripe's own ceiling for unit_amount (8 digits), so the fake refuses what Stripe refuses.
    if (unitAmount > 99_999_999) {
      return stripeError(
        400,
        "Amount must be no more than $999,999.99",
        `line_items[${i}][price_data][unit_amount]`,
      );
    }
    if (!Number.isInteger(quantity) || quantity < 1) {
      return stripeError(400, "Invalid quantity.", `line_items[${i}][quantity]`);
    }
    currency = price.currency.toLowerCase();
    amountTotal += unitAmount * quantity;
  }
  const id = randomId("cs_test_");
  const created = Math.floor(Date.now() / 1000);
  return {
    id,
    object: "checkout.session",
    amount_subtotal: amountTotal,
    amount_total: amountTotal,
    cancel_url: typeof form.cancel_url === "string" ? form.cancel_url : null,
    client_reference_id: typeof form.client_reference_id === "string" ? form.client_reference_id : null,
    created,
    currency,
    customer: null,
    expires_at: created + 24 * 3600,
    livemode: false,
    metadata: (form.metadata ?? {}) as Json,
    mode: "payment",
    payment_intent: null,
    payment_status: "unpaid",
    status: "open",
    success_url: form.success_url,
    url: `${baseUrl}/c/pay/${id}`,
  };
}

export function startFakeStripeApi(options: { port?: number; hostname?: string } = {}): FakeStripeApi {
  const hostname = options.hostname ?? "127.0.0.1";
  const sessions = new Map<string, FakeSession>();
  const byIdempotencyKey = new Map<string, string>();
  const requests: Form[] = [];
  let baseUrl = "";

  const server = Deno.serve({ hostname, port: options.port ?? 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const auth = req.headers.get("authorization") ?? "";
    if (url.pathname.startsWith("/v1/") && !/^Bearer sk_test_\S+$/.test(auth)) {
      return Response.json(
        { error: { type: "invalid_request_error", message: "Invalid API Key provided." } },
        { status: 401 },
      );
    }
    if (req.method === "POST" && url.pathname === "/v1/checkout/sessions") {
      const body = await req.text();
      if (body.length > BODY_LIMIT_BYTES) return stripeError(413, "Request too large.");
      const form = parseStripeForm(body);
      requests.push(form);
      const key = req.headers.get("idempotency-key");
      const earlier = key ? byIdempotencyKey.get(key) : undefined;
      if (earlier) {
        return Response.json(sessions.get(earlier), { headers: { "Idempotent-Replayed": "true" } });
      }
      const session = createSession(form, baseUrl);
      if (session instanceof Response) return session;
      sessions.set(session.id as string, session);
      if (key) byIdempotencyKey.set(key, session.id as string);
      return Response.json(session);
    }
    const get = /^\/v1\/checkout\/sessions\/([A-Za-z0-9_]+)$/.exec(url.pathname);
    if (req.method === "GET" && get) {
      const session = sessions.get(get[1]!);
      return session
        ? Response.json(session)
        : stripeError(404, `No such checkout.session: '${get[1]}'`, "id");
    }
    const page = /^\/c\/pay\/([A-Za-z0-9_]+)$/.exec(url.pathname);
    if (req.method === "GET" && page) {
      const session = sessions.get(page[1]!);
      const purchaseId = (session?.client_reference_id as string | undefined) ?? "<purchaseId>";
      return new Response(
        `Fake Stripe Checkout (local development; no card is charged).\n` +
          `To pay, run:  ./dev pay ${purchaseId}\n`,
        { headers: { "Content-Type": "text/plain; charset=utf-8" } },
      );
    }
    return stripeError(404, `Unrecognized request URL (${req.method}: ${url.pathname}).`);
  });
  const port = (server.addr as Deno.NetAddr).port;
  baseUrl = `http://${hostname}:${port}`;
  return { url: baseUrl, port, sessions, requests, close: () => server.shutdown() };
}

if (import.meta.main) {
  const port = Number(Deno.env.get("STRIPE_API_PORT") ?? 54381);
  const api = startFakeStripeApi({ port });
  console.log(`FAKE Stripe API (local only) on ${api.url}`);
}
