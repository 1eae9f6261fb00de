// Money in through the local gateway (./dev up), as clients and Stripe see it: an admin publishes a
// package, a referred user buys it through the fake Stripe API, Stripe's signed webhook pays it, and
// the buyer and their referrer see the result. Every request comes from its own loopback address so
// rate limits never couple these tests to other suites.
import assert from "node:assert/strict";
import { checkoutSessionEvent, signatureFor } from "../devstack/stripe_test_events.ts";
import { fetchFrom, fn, loopbackIp, testSql } from "./support.ts";

const PASSWORD = "correct horse battery staple";
const WEBHOOK_SECRET = Deno.env.get("STRIPE_WEBHOOK_SECRET") ?? "whsec_local_development_secret";

async function call(
  path: string,
  init: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await fetchFrom(loopbackIp(), fn(path), {
    method: init.body === undefined ? "GET" : "POST",
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

async function signup(referralCode?: string) {
  const email = `flow-${crypto.randomUUID()}@example.com`;
  const res = await call("auth/signup", {
    body: { email, password: PASSWORD, ...(referralCode ? { referralCode } : {}) },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { email, token: res.body.accessToken as string, user: res.body.user };
}

Deno.test("gateway: publish, buy, pay by signed webhook, see it paid and the referrer's commission", async () => {
  const sql = testSql(2);
  try {
    const operator = await signup();
    await sql`select private.promote_to_admin(${operator.email})`;
    const login = await call("auth/login", { body: { email: operator.email, password: PASSWORD } });
    const admin = login.body.accessToken as string;

    const published = await call("admin/packages", {
      token: admin,
      body: { name: "Flow 30", priceMinor: 9999, currency: "USD", dailyRateBps: 100, durationDays: 30 },
    });
    assert.equal(published.status, 201, JSON.stringify(published.body));
    const catalog = await call("packages");
    assert.equal(catalog.headers.get("cache-control"), "public, max-age=60");
    assert.ok(catalog.body.some((p: { id: string }) => p.id === published.body.id));

    const referrer = await signup();
    const buyer = await signup(referrer.user.referralCode);
    // VIP 1 earns level 1 (set after the buyer's signup, which recomputes the referrer's level).
    await sql`select test_support.set_vip(${referrer.user.id}::uuid, 1)`;
    const key = `flow-${crypto.randomUUID()}`;
    const started = await call("purchases", {
      token: buyer.token,
      body: { packageId: published.body.id },
      headers: { "idempotency-key": key },
    });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.equal(started.body.status, "pending");
    assert.match(started.body.checkoutUrl, /^http:\/\/127\.0\.0\.1:\d+\/c\/pay\/cs_test_/);
    const replay = await call("purchases", {
      token: buyer.token,
      body: { packageId: published.body.id },
      headers: { "idempotency-key": key },
    });
    assert.deepEqual(replay.body, started.body);

    const event = checkoutSessionEvent("checkout.session.completed", {
      purchaseId: started.body.purchaseId,
      stripeSessionId: started.body.stripeSessionId,
      amountMinor: 9999,
      currency: "usd",
      paymentIntentId: `pi_flow_${crypto.randomUUID().slice(0, 8)}`,
    });
    const payload = JSON.stringify(event);
    const deliver = (signature: string) =>
      fetch(fn("stripe-webhook"), {
        method: "POST",
        headers: { "content-type": "application/json", "stripe-signature": signature },
        body: payload,
      });
    const forged = await deliver(await signatureFor(payload, "whsec_not_ours"));
    assert.equal(forged.status, 400);
    await forged.body?.cancel();
    const paid = await deliver(await signatureFor(payload, WEBHOOK_SECRET));
    assert.equal(paid.status, 200);
    assert.deepEqual(await paid.json(), { received: true, outcome: "purchased", duplicate: false });

    const mine = await call("purchases", { token: buyer.token });
    assert.equal(mine.status, 200);
    assert.equal(mine.body.items.length, 1);
    assert.equal(mine.body.items[0].purchaseId, started.body.purchaseId);
    assert.equal(mine.body.items[0].status, "paid");
    assert.deepEqual((await call("purchases", { token: referrer.token })).body.items, []);

    // 8% of 9999 at level 1, pending through the hold.
    const account = await call("account", { token: referrer.token });
    assert.equal(account.body.pendingMinor, 799);
  } finally {
    await sql.end();
  }
});

Deno.test("gateway: purchases needs a user token; the webhook needs a signature", async () => {
  const anon = await call("purchases", { body: { packageId: crypto.randomUUID() }, token: "anon-key" });
  assert.equal(anon.status, 401);
  const unsigned = await fetch(fn("stripe-webhook"), { method: "POST", body: "{}" });
  assert.equal(unsigned.status, 400);
  assert.equal((await unsigned.json()).code, "invalid_signature");
});

Deno.test("gateway: ./dev pay pays a pending purchase once", async () => {
  const sql = testSql(2);
  try {
    const [row] = await sql<{ id: string }[]>`select test_support.package(2500, 100, 30) as id`;
    const buyer = await signup();
    const started = await call("purchases", { token: buyer.token, body: { packageId: row!.id } });
    assert.equal(started.status, 201);
    const pay = () =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("../devstack/pay.ts", import.meta.url).pathname, started.body.purchaseId],
        stdout: "piped",
        stderr: "piped",
      }).output();
    const first = await pay();
    assert.equal(first.code, 0, new TextDecoder().decode(first.stderr));
    assert.match(new TextDecoder().decode(first.stdout), /→ 200 .*"outcome":"purchased"/);
    const second = await pay();
    assert.equal(second.code, 1);
    assert.match(new TextDecoder().decode(second.stderr), /is paid, not pending/);
    const mine = await call("purchases", { token: buyer.token });
    assert.equal(mine.body.items[0].status, "paid");
  } finally {
    await sql.end();
  }
});
