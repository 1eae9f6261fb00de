// Admin users (JSON and CSV) and earnings runs, in-process against the real local Postgres.
import assert from "node:assert/strict";
import { signAccessToken } from "../_shared/auth/jwt.ts";
import { createUserGuard } from "../_shared/auth/guard.ts";
import { createApp } from "../_shared/http/app.ts";
import { createSql } from "../_shared/infra/db.ts";
import { redis } from "../_shared/infra/redis.ts";
import { DATABASE_URL } from "../../../tests/support.ts";
import { authHandler, rateLimits, TEST_TOKENS } from "../auth/handler_test_support.ts";
import { csvField, userRoutes } from "./users_routes.ts";

const sql = createSql(DATABASE_URL, 4);
const guard = createUserGuard({
  sql: () => sql,
  redis,
  rateLimits: rateLimits({ enabled: false }),
  tokens: TEST_TOKENS,
  ip: { header: "x-forwarded-for", hop: "first" },
});
const app = createApp({ functionName: "admin", routes: userRoutes({ sql: () => sql, guard }) });
const auth = authHandler(sql);

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

async function signup(email: string) {
  const res = await auth(
    new Request("http://localhost/auth/signup", {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": "192.0.2.44" },
      body: JSON.stringify({ email, password: "correct horse battery" }),
    }),
  );
  assert.equal(res.status, 201);
  return (await res.json()).user as { id: string; referralCode: string };
}

Deno.test("admins find users by email prefix, id and referral code, as JSON and as CSV", async () => {
  const tag = crypto.randomUUID().slice(0, 8);
  const first = await signup(`adm-${tag}-a@example.com`);
  const second = await signup(`adm-${tag}-b@example.com`);

  const byPrefix = await (await get(`/users?search=ADM-${tag}&limit=1`)).json();
  assert.equal(byPrefix.items.length, 1);
  assert.equal(byPrefix.items[0].id, second.id, "newest first");
  const next = await (await get(`/users?search=adm-${tag}&limit=1&cursor=${byPrefix.nextCursor}`)).json();
  assert.equal(next.items[0].id, first.id);
  assert.equal(next.nextCursor, null);
  assert.equal(
    (await (await get(`/users?search=${first.id}`)).json()).items[0].email,
    `adm-${tag}-a@example.com`,
  );
  assert.equal(
    (await (await get(`/users?search=${first.referralCode.toLowerCase()}`)).json()).items[0].id,
    first.id,
  );
  assert.equal((await get(`/users?search=${"x".repeat(400)}`)).status, 400);
  assert.equal((await get(`/users?search=adm-${tag}`, "user")).status, 403);

  const csv = await get(`/users.csv?search=adm-${tag}`);
  assert.equal(csv.headers.get("content-type"), "text/csv; charset=utf-8");
  const lines = (await csv.text()).trimEnd().split("\r\n");
  assert.equal(lines[0], "id,email,role,referralCode,referrerId,vipLevel,kycStatus,createdAt");
  assert.equal(lines.length, 3);
  assert.ok(lines[1]!.startsWith(`${second.id},adm-${tag}-b@example.com,user,`));
});

Deno.test("CSV fields are quoted, and formulas are defused", () => {
  assert.equal(csvField('a,"b"'), '"a,""b"""');
  assert.equal(csvField("=HYPERLINK(1)"), "'=HYPERLINK(1)");
  assert.equal(csvField(null), "");
  assert.equal(csvField(3), "3");
});

Deno.test("the earnings run history is paginated newest first", async () => {
  const res = await get("/earnings-runs?limit=2");
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.ok(Array.isArray(body.items));
  for (const run of body.items) assert.ok(["succeeded", "failed"].includes(run.status));
  assert.equal((await get("/earnings-runs?cursor=abc")).status, 400);
  await sql.end();
});
