// The money-in handlers in-process, against the real local Postgres and Upstash endpoint, with the
// fake Stripe API (devstack/fake_stripe_api.ts) on a free port. Users and trees come from
// devstack/test_support.sql; their tokens are signed here (no passwords needed).
import Stripe from "stripe";
import { signAccessToken } from "../_shared/auth/jwt.ts";
import { createSql, type Sql } from "../_shared/infra/db.ts";
import { createStripe } from "../_shared/infra/stripe.ts";
import { DATABASE_URL } from "../../../tests/support.ts";
import { type FakeStripeApi, startFakeStripeApi } from "../../../devstack/fake_stripe_api.ts";
import { signatureFor, type StripeEventJson } from "../../../devstack/stripe_test_events.ts";
import { randomIp, rateLimits, TEST_TOKENS } from "../auth/handler_test_support.ts";
import { redis } from "../_shared/infra/redis.ts";
import { createStripeWebhookHandler } from "../stripe-webhook/handler.ts";
import { createPurchasesHandler } from "./handler.ts";

export const WEBHOOK_SECRET = "whsec_test_secret_for_handler_tests";

export type MoneyWorld = {
  sql: Sql;
  fakeStripe: FakeStripeApi;
  stripe: Stripe;
  purchases: (req: Request) => Promise<Response>;
  webhook: (req: Request) => Promise<Response>;
  close(): Promise<void>;
};

export function moneyWorld(options: { idempotencyWaitMs?: number } = {}): MoneyWorld {
  const sql = createSql(DATABASE_URL, 12);
  const fakeStripe = startFakeStripeApi();
  const stripe = createStripe({ secretKey: "sk_test_handler_tests", apiBase: fakeStripe.url });
  const purchases = createPurchasesHandler({
    sql: () => sql,
    redis,
    stripe: () => stripe,
    checkoutUrls: { successUrl: "https://app.example/ok", cancelUrl: "https://app.example/cancel" },
    tokens: TEST_TOKENS,
    rateLimits: rateLimits({ enabled: false }),
    ip: { header: "x-forwarded-for", hop: "first" },
    idempotency: { waitMs: options.idempotencyWaitMs ?? 3000, staleAfterSeconds: 60 },
  });
  const webhook = createStripeWebhookHandler({ sql: () => sql, webhookSecret: WEBHOOK_SECRET });
  return {
    sql,
    fakeStripe,
    stripe,
    purchases,
    webhook,
    close: async () => {
      await fakeStripe.close();
      await sql.end();
    },
  };
}

export function tokenFor(userId: string, role: "user" | "admin" = "user"): Promise<string> {
  return signAccessToken({ userId, role, sessionId: crypto.randomUUID() }, TEST_TOKENS, new Date());
}

// deno-lint-ignore no-explicit-any
export type Reply = { status: number; headers: Headers; body: any };

export async function reply(response: Response): Promise<Reply> {
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

export type PostPurchase = {
  userId: string;
  body?: unknown;
  raw?: string;
  key?: string;
  contentType?: string;
};

export async function postPurchase(world: MoneyWorld, p: PostPurchase): Promise<Reply> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${await tokenFor(p.userId)}`,
    "content-type": p.contentType ?? "application/json",
    "x-forwarded-for": randomIp(),
  };
  if (p.key !== undefined) headers["idempotency-key"] = p.key;
  return reply(
    await world.purchases(
      new Request("http://localhost/purchases", {
        method: "POST",
        headers,
        body: p.raw ?? JSON.stringify(p.body),
      }),
    ),
  );
}

export async function getPurchases(world: MoneyWorld, userId: string | null, query = ""): Promise<Reply> {
  const headers: Record<string, string> = userId ? { authorization: `Bearer ${await tokenFor(userId)}` } : {};
  return reply(await world.purchases(new Request(`http://localhost/purchases${query}`, { headers })));
}

export type Delivery = { payload?: string; signature?: string | null; timestamp?: number; secret?: string };

/** POST a Stripe event to the webhook, signed as Stripe signs it unless the delivery says otherwise. */
export async function deliver(
  world: MoneyWorld,
  event: StripeEventJson | null,
  d: Delivery = {},
): Promise<Reply> {
  const payload = d.payload ?? JSON.stringify(event);
  const signature = d.signature === undefined
    ? await signatureFor(JSON.stringify(event), d.secret ?? WEBHOOK_SECRET, d.timestamp)
    : d.signature;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (signature !== null) headers["stripe-signature"] = signature;
  return reply(
    await world.webhook(
      new Request("http://localhost/stripe-webhook", { method: "POST", headers, body: payload }),
    ),
  );
}

/** A chain of n users (element 0 the root) and a buyer under the last one, uplines at the given VIP level. */
export async function buyerUnderChain(
  sql: Sql,
  n: number,
  vipLevel = 10,
): Promise<{ uplines: string[]; buyer: string }> {
  const [row] = await sql<{ ids: string[] }[]>`select test_support.chain(${n}) as ids`;
  const uplines = row!.ids;
  for (const id of uplines) await sql`select test_support.set_vip(${id}::uuid, ${vipLevel})`;
  const [b] = await sql<{ id: string }[]>`select test_support.register(${
    uplines.at(-1) ?? null
  }::uuid) as id`;
  return { uplines, buyer: b!.id };
}

export async function newUser(sql: Sql): Promise<string> {
  const [row] = await sql<{ id: string }[]>`select test_support.register() as id`;
  return row!.id;
}

/** A user with credentials and the admin role in the database (admin routes check it on every request). */
export async function newAdmin(sql: Sql): Promise<string> {
  const [row] = await sql<{ id: string }[]>`select test_support.kyc_user(true) as id`;
  return row!.id;
}

export async function newPackage(sql: Sql, priceMinor = 10000): Promise<string> {
  const [row] = await sql<{ id: string }[]>`select test_support.package(${priceMinor}, 100, 30) as id`;
  return row!.id;
}
