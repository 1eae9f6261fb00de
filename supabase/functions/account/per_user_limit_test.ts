// The per-user limit of authenticated routes, on a function other than auth (whose test guards it
// too): it counts the user whatever address and whatever session a request comes from, and it is
// each user's own (another user is not limited by it). In-process, against the real Upstash endpoint.
import assert from "node:assert/strict";
import { signAccessToken } from "../_shared/auth/jwt.ts";
import { createSql } from "../_shared/infra/db.ts";
import { redis } from "../_shared/infra/redis.ts";
import { awayFromWindowBoundary, DATABASE_URL } from "../../../tests/support.ts";
import { randomIp, rateLimits, TEST_TOKENS } from "../auth/handler_test_support.ts";
import { createAccountHandler } from "./handler.ts";

Deno.test("GET /account: the per-user limit follows the user across addresses and sessions, and no one else", async () => {
  const sql = createSql(DATABASE_URL, 2);
  try {
    const handler = createAccountHandler({
      sql: () => sql,
      redis,
      tokens: TEST_TOKENS,
      rateLimits: rateLimits({ apiPerUser: { tokens: 2, window: "1 m" } }),
      ip: { header: "x-forwarded-for", hop: "first" },
    });
    const [row] = await sql<{ a: string; b: string }[]>`
      select test_support.register() as a, test_support.register() as b`;
    const get = async (userId: string) => {
      // A new session and a new address every time: only the user stays the same.
      const token = await signAccessToken(
        { userId, role: "user", sessionId: crypto.randomUUID() },
        TEST_TOKENS,
        new Date(),
      );
      const res = await handler(
        new Request("http://localhost/account", {
          headers: { authorization: `Bearer ${token}`, "x-forwarded-for": randomIp() },
        }),
      );
      return { status: res.status, headers: res.headers, body: await res.json() };
    };
    await awayFromWindowBoundary(60_000);
    const first = await get(row!.a);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("ratelimit-limit"), "2");
    assert.equal(first.headers.get("ratelimit-remaining"), "1");
    assert.equal((await get(row!.a)).status, 200);
    const third = await get(row!.a);
    assert.equal(third.status, 429);
    assert.equal(third.body.code, "rate_limited");
    assert.ok(Number(third.headers.get("retry-after")) >= 1);
    const other = await get(row!.b);
    assert.equal(other.status, 200, "another user has a limit of their own");
    assert.equal(other.headers.get("ratelimit-remaining"), "1");
  } finally {
    await sql.end();
  }
});
