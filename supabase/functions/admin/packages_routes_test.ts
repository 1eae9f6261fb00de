// The admin catalog routes in-process (composed into a bare admin app, as admin/handler.ts does),
// against the real local Postgres.
import assert from "node:assert/strict";
import { createUserGuard } from "../_shared/auth/guard.ts";
import { createApp } from "../_shared/http/app.ts";
import { createSql } from "../_shared/infra/db.ts";
import { redis } from "../_shared/infra/redis.ts";
import { DATABASE_URL } from "../../../tests/support.ts";
import { rateLimits, TEST_TOKENS } from "../auth/handler_test_support.ts";
import { newAdmin, newUser, reply, tokenFor } from "../purchases/handler_test_support.ts";
import { packageRoutes } from "./packages_routes.ts";

const sql = createSql(DATABASE_URL, 4);
const guard = createUserGuard({
  sql: () => sql,
  redis,
  tokens: TEST_TOKENS,
  rateLimits: rateLimits({ enabled: false }),
  ip: { header: "x-forwarded-for", hop: "first" },
});
const app = createApp({ functionName: "admin", routes: packageRoutes({ sql: () => sql, guard }) });

const good = { name: "Gold 90", priceMinor: 250000, currency: "USD", dailyRateBps: 120, durationDays: 90 };

async function post(path: string, opts: { token?: string; body?: unknown; raw?: string; key?: string } = {}) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.key) headers["idempotency-key"] = opts.key;
  const body = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  return reply(
    await app(
      new Request(`http://localhost/admin${path}`, { method: "POST", headers, ...(body ? { body } : {}) }),
    ),
  );
}

Deno.test("admin package routes", async (t) => {
  try {
    const adminId = await newAdmin(sql);
    const admin = await tokenFor(adminId, "admin");
    const user = await tokenFor(await newUser(sql), "user");

    await t.step(
      "an admin publishes a package: 201, active, and the event names who and which request",
      async () => {
        const res = await post("/packages", { token: admin, body: good });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.deepEqual({ ...res.body, id: undefined }, { ...good, id: undefined, status: "active" });
        const [event] = await sql`
        select type, metadata from event_store.events where stream_id = ${"package-" + res.body.id}`;
        assert.equal(event!.type, "PackagePublished");
        assert.equal(event!.metadata.actorId, adminId);
        assert.equal(event!.metadata.requestId, res.headers.get("x-request-id"));
      },
    );

    await t.step("anonymous is 401, a non-admin 403", async () => {
      assert.equal((await post("/packages", { body: good })).status, 401);
      const forbidden = await post("/packages", { token: user, body: good });
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.body.code, "forbidden");
      assert.equal((await post(`/packages/${crypto.randomUUID()}/retire`, { token: user })).status, 403);
    });

    await t.step("invalid bodies are 400 validation_failed", async () => {
      const bad: unknown[] = [
        null,
        [],
        {},
        { ...good, extra: true },
        { ...good, name: "" },
        { ...good, name: "   " },
        { ...good, name: "x".repeat(101) },
        { ...good, priceMinor: 0 },
        { ...good, priceMinor: 1.5 },
        { ...good, priceMinor: "100" },
        { ...good, priceMinor: 1_000_000_000_001 },
        { ...good, currency: "usd" },
        { ...good, currency: "USDT" },
        { ...good, dailyRateBps: 0 },
        { ...good, dailyRateBps: 10_001 },
        { ...good, durationDays: 0 },
        { ...good, durationDays: 3651 },
      ];
      for (const body of bad) {
        const res = await post("/packages", { token: admin, body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.code, "validation_failed");
      }
      assert.equal((await post("/packages", { token: admin, raw: "{oops" })).body.code, "invalid_json");
    });

    await t.step("another currency than the platform's is 422 invalid_currency", async () => {
      const res = await post("/packages", { token: admin, body: { ...good, currency: "EUR" } });
      assert.equal(res.status, 422);
      assert.equal(res.body.code, "invalid_currency");
    });

    await t.step("Idempotency-Key: a retry publishes once; another body with the key is 409", async () => {
      const key = `pkg-${crypto.randomUUID()}`;
      const first = await post("/packages", { token: admin, body: good, key });
      const again = await post("/packages", { token: admin, body: good, key });
      assert.equal(again.status, 201);
      assert.deepEqual(again.body, first.body);
      const reused = await post("/packages", { token: admin, body: { ...good, name: "Other" }, key });
      assert.equal(reused.status, 409);
      assert.equal(reused.body.code, "idempotency_key_reused");
    });

    await t.step("retire: 200 then 409; unknown or malformed ids 404", async () => {
      const published = await post("/packages", { token: admin, body: good });
      const retired = await post(`/packages/${published.body.id}/retire`, { token: admin });
      assert.equal(retired.status, 200);
      assert.equal(retired.body.status, "retired");
      const [event] = await sql`
        select metadata from event_store.events where stream_id = ${
        "package-" + published.body.id
      } and type = 'PackageRetired'`;
      assert.equal(event!.metadata.actorId, adminId);
      const twice = await post(`/packages/${published.body.id}/retire`, { token: admin });
      assert.equal(twice.status, 409);
      assert.equal(twice.body.code, "conflict");
      assert.equal((await post(`/packages/${crypto.randomUUID()}/retire`, { token: admin })).status, 404);
      assert.equal((await post(`/packages/not-a-uuid/retire`, { token: admin })).status, 404);
    });
  } finally {
    await sql.end();
  }
});
