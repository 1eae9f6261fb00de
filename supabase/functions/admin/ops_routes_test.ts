// GET /admin/ops and /admin/alerts, in-process against the real local Postgres.
import assert from "node:assert/strict";
import { signAccessToken } from "../_shared/auth/jwt.ts";
import { createUserGuard } from "../_shared/auth/guard.ts";
import { createApp } from "../_shared/http/app.ts";
import { createSql } from "../_shared/infra/db.ts";
import { redis } from "../_shared/infra/redis.ts";
import { DATABASE_URL } from "../../../tests/support.ts";
import { rateLimits, TEST_TOKENS } from "../auth/handler_test_support.ts";
import { opsRoutes } from "./ops_routes.ts";

const sql = createSql(DATABASE_URL, 4);
const guard = createUserGuard({
  sql: () => sql,
  redis,
  rateLimits: rateLimits({ enabled: false }),
  tokens: TEST_TOKENS,
  ip: { header: "x-forwarded-for", hop: "first" },
});
const app = createApp({
  functionName: "admin",
  routes: opsRoutes({ sql: () => sql, guard, now: () => new Date() }),
});
const [adminRow] = await sql<{ id: string }[]>`select test_support.kyc_user(true) as id`;

async function get(path: string, role: "user" | "admin" = "admin") {
  const token = await signAccessToken(
    { userId: role === "admin" ? adminRow!.id : crypto.randomUUID(), role, sessionId: crypto.randomUUID() },
    TEST_TOKENS,
    new Date(),
  );
  return await app(
    new Request(`http://localhost/admin${path}`, { headers: { authorization: `Bearer ${token}` } }),
  );
}

Deno.test("GET /admin/ops returns every ops figure, the last audit and the firing alerts", async () => {
  const res = await get("/ops");
  assert.equal(res.status, 200);
  const body = await res.json();
  const metrics = await sql<{ metric: string }[]>`select metric from ops.metrics`;
  for (const { metric } of metrics) {
    const name = metric.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    assert.ok(name in body.figures, `${name} is shown`);
  }
  assert.equal(typeof body.figures.earningsLagSeconds, "number");
  const [outbox] = await sql<{ n: number }[]>`
    select count(*)::int as n from notify.outbox where status in ('queued', 'sending')`;
  assert.equal(typeof body.figures.outboxBacklog, "number", "the mail outbox is counted");
  assert.ok(
    Math.abs(body.figures.outboxBacklog - outbox!.n) <= 50,
    "close to what is queued now (the drainer runs)",
  );
  assert.ok(Array.isArray(body.alertsFiring));
  assert.equal((await get("/ops", "user")).status, 403);
  assert.equal((await get("/ops?x=1")).status, 400, "unknown query parameters are refused");
});

Deno.test("GET /admin/alerts lists alerts newest first, by state, keyset-paginated", async () => {
  const rule = `test_route_${crypto.randomUUID().slice(0, 8)}`;
  await sql`insert into ops.alert_rules (rule_id, metric, comparison, threshold, severity, description)
            values (${rule}, ${rule}, '>', 0, 'warning', 'a test rule')`;
  try {
    const t = Date.now() + 86_400_000 * 365; // ahead of every real alert, so ours come first
    for (const [i, resolved] of [[0, true], [1, true], [2, false]] as const) {
      const fired = new Date(t + i * 60_000).toISOString();
      const resolvedAt = resolved ? new Date(t + i * 60_000 + 30_000).toISOString() : null;
      await sql`insert into ops.alerts (rule_id, metric, severity, comparison, threshold, fired_at, fired_value,
                                        resolved_at, resolved_value)
                values (${rule}, ${rule}, 'warning', '>', 0, ${fired}, 5, ${resolvedAt}, ${
        resolved ? 0 : null
      })`;
    }
    const firing = await (await get("/alerts?state=firing&limit=1")).json();
    assert.equal(firing.items[0].rule, rule);
    assert.equal(firing.items[0].resolvedAt, null);
    assert.equal(firing.items[0].condition, "> 0");
    const resolved = await (await get("/alerts?state=resolved&limit=1")).json();
    assert.equal(resolved.items[0].rule, rule);
    assert.ok(resolved.items[0].resolvedAt > resolved.items[0].firedAt);
    const next = await (await get(`/alerts?state=resolved&limit=1&cursor=${resolved.nextCursor}`)).json();
    assert.equal(next.items[0].rule, rule);
    assert.ok(next.items[0].firedAt < resolved.items[0].firedAt, "older on the next page");
    const all = await (await get("/alerts?limit=3")).json();
    assert.deepEqual(all.items.map((a: { rule: string }) => a.rule), [rule, rule, rule]);
    assert.equal((await get("/alerts?state=open")).status, 400);
    assert.equal((await get("/alerts?cursor=nonsense")).status, 400);
    assert.equal((await get("/alerts", "user")).status, 403);
  } finally {
    await sql`delete from ops.alert_rules where rule_id = ${rule}`;
  }
});

globalThis.addEventListener("unload", () => sql.end());
