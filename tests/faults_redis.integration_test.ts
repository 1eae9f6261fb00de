// Redis stopped for 10 s under load, on a private stack (its own cluster, Redis, Upstash endpoint and
// gateway): each route does what the README says it does when Redis is down, and nothing else.
//   fail closed (503 unavailable): POST /auth/signup, /auth/login, /auth/password-reset, /auth/password
//   fail open (served without limits): user routes (GET /account, GET /auth/me, POST /withdrawals, …)
//   no rate limit at all: GET /packages, POST /stripe-webhook
//   GET /health: 503 "degraded" with redis "down"
// Before the outage and after Redis is back, every route answers as usual.
import assert from "node:assert/strict";
import { checkoutSessionEvent } from "../devstack/stripe_test_events.ts";
import { deliverWebhook, privateStack } from "./fault_support.ts";
import { waitFor } from "./local_redis.ts";
import { fetchFrom, loopbackIp } from "./support.ts";

const OUTAGE_MS = 10_000;
const WORKERS = 6;
const PASSWORD = "correct horse battery staple";

type Probe = { route: string; send: () => Promise<Response>; up: number[]; down: number[] };
type Outcome = {
  route: string;
  status: number;
  code?: string;
  redis?: string;
  startedAt: number;
  endedAt: number;
};

Deno.test("Redis stopped for 10 s under load: signup, login and password routes 503, every other route served", async () => {
  const stack = await privateStack();
  const { sql, gateway, redis } = stack;
  try {
    const call = (path: string, init: { body?: unknown; token?: string } = {}) =>
      fetchFrom(loopbackIp(), gateway.fn(path), {
        method: init.body === undefined ? "GET" : "POST",
        headers: {
          ...(init.body === undefined ? {} : { "content-type": "application/json" }),
          ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
    const email = `redis-${crypto.randomUUID()}@example.com`;
    const signedUp = await call("auth/signup", { body: { email, password: PASSWORD } });
    assert.equal(signedUp.status, 201);
    const me = await signedUp.json();
    const token = me.accessToken as string;
    await sql`select test_support.approve_kyc(${me.user.id}), test_support.fund(${me.user.id}, 1000000000)`; // a million withdrawals: the workers are not limited while Redis is down
    const [pkg] = await sql<{ id: string }[]>`select test_support.package(10000, 100, 30) as id`;

    const probes: Probe[] = [
      {
        route: "POST /auth/signup",
        send: () =>
          call("auth/signup", {
            body: { email: `redis-${crypto.randomUUID()}@example.com`, password: PASSWORD },
          }),
        up: [201],
        down: [503],
      },
      {
        route: "POST /auth/login",
        send: () => call("auth/login", { body: { email, password: PASSWORD } }),
        up: [200],
        down: [503],
      },
      {
        route: "POST /auth/password-reset",
        send: () => call("auth/password-reset", { body: { email } }),
        up: [202],
        down: [503],
      },
      {
        // A wrong current password: 401 when the limiter answers, so the password never changes.
        route: "POST /auth/password",
        send: () =>
          call("auth/password", {
            token,
            body: { currentPassword: "not the password", newPassword: `${PASSWORD}!` },
          }),
        up: [401],
        down: [503],
      },
      { route: "GET /account", send: () => call("account", { token }), up: [200], down: [200] },
      { route: "GET /auth/me", send: () => call("auth/me", { token }), up: [200], down: [200] },
      {
        route: "POST /withdrawals",
        send: () =>
          call("withdrawals", {
            token,
            body: { amountMinor: 1000, currency: "USD", destination: "acct-redis" },
          }),
        up: [201],
        down: [201],
      },
      { route: "GET /packages", send: () => call("packages"), up: [200], down: [200] },
      {
        route: "POST /stripe-webhook",
        send: async () => {
          const purchaseId = crypto.randomUUID();
          const [buyer] = await sql<{ id: string }[]>`select test_support.register() as id`;
          await sql`select money.start_checkout(${purchaseId}, ${buyer!.id}, ${pkg!.id}, ${
            "cs_redis_" + purchaseId
          })`;
          const event = checkoutSessionEvent("checkout.session.completed", {
            purchaseId,
            stripeSessionId: `cs_redis_${purchaseId}`,
            amountMinor: 10000,
            currency: "USD",
            paymentIntentId: `pi_redis_${purchaseId}`,
          });
          return await deliverWebhook(gateway.fn, JSON.stringify(event));
        },
        up: [200],
        down: [200],
      },
      { route: "GET /health", send: () => call("health"), up: [200], down: [503] },
    ];

    const outcomes: Outcome[] = [];
    const fire = async (probe: Probe) => {
      const startedAt = Date.now();
      const res = await probe.send();
      const text = await res.text();
      const body = text.startsWith("{") ? JSON.parse(text) : {};
      outcomes.push({
        route: probe.route,
        status: res.status,
        code: body.code,
        redis: body.redis,
        startedAt,
        endedAt: Date.now(),
      });
    };
    const load = async (untilMs: number) => {
      let turn = 0;
      await Promise.all(Array.from({ length: WORKERS }, async (_, w) => {
        while (Date.now() < untilMs) await fire(probes[(turn++ + w) % probes.length]!);
      }));
    };

    // Up: every route once, as usual.
    for (const probe of probes) await fire(probe);
    const before = outcomes.splice(0);
    for (const o of before) {
      assert.ok(
        probes.find((p) => p.route === o.route)!.up.includes(o.status),
        `before: ${JSON.stringify(o)}`,
      );
    }

    // Down for 10 s, under load.
    await redis.stop();
    const downFrom = Date.now();
    const downUntil = downFrom + OUTAGE_MS;
    await load(downUntil);
    // A request that was still running when the outage ended may have seen either side of it.
    const during = outcomes.splice(0).filter((o) => o.endedAt <= downUntil);
    await redis.restart();

    const byRoute = new Map<string, Outcome[]>();
    for (const o of during) byRoute.set(o.route, [...(byRoute.get(o.route) ?? []), o]);
    console.log(
      `answers during the outage: ${
        JSON.stringify(Object.fromEntries([...byRoute].map(([r, os]) => [
          r,
          os.map((o) => o.status).join(","),
        ])))
      }`,
    );
    for (const probe of probes) {
      const seen = byRoute.get(probe.route) ?? [];
      assert.ok(seen.length > 0, `${probe.route} was called during the outage`);
      for (const o of seen) {
        assert.ok(probe.down.includes(o.status), `${probe.route} during the outage: ${JSON.stringify(o)}`);
        if (o.status === 503 && probe.route !== "GET /health") assert.equal(o.code, "unavailable");
        // Health reports what it last saw: "down" once its probe of the stopped Redis failed.
        if (probe.route === "GET /health") assert.equal(o.redis, "down");
      }
    }

    // Back up: the fail-closed routes recover by themselves, and every route answers as before.
    await waitFor(
      async () => (await call("auth/login", { body: { email, password: PASSWORD } })).status === 200,
      "login to work again",
      30_000,
    );
    await waitFor(async () => (await call("health")).status === 200, "health to say ok again", 30_000);
    for (const probe of probes) await fire(probe);
    for (const o of outcomes.splice(0)) {
      assert.ok(
        probes.find((p) => p.route === o.route)!.up.includes(o.status),
        `after: ${JSON.stringify(o)}`,
      );
    }
  } finally {
    await stack.close();
  }
});
