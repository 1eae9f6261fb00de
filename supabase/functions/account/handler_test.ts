// The account routes in-process, against the real local Postgres and Upstash endpoint. Users, purchases
// and releases come from devstack/test_support.sql (the same commands production runs).
import assert from "node:assert/strict";
import { signAccessToken } from "../_shared/auth/jwt.ts";
import { createSql } from "../_shared/infra/db.ts";
import { DATABASE_URL } from "../../../tests/support.ts";
import { rateLimits, TEST_TOKENS } from "../auth/handler_test_support.ts";
import { redis } from "../_shared/infra/redis.ts";
import { createAccountHandler } from "./handler.ts";

const sql = createSql(DATABASE_URL, 4);
const handler = createAccountHandler({
  sql: () => sql,
  redis,
  tokens: TEST_TOKENS,
  rateLimits: rateLimits({ enabled: false }),
  ip: { header: "x-forwarded-for", hop: "first" },
});

async function tokenFor(userId: string) {
  return await signAccessToken(
    { userId, role: "user", sessionId: crypto.randomUUID() },
    TEST_TOKENS,
    new Date(),
  );
}

async function get(path: string, userId?: string) {
  const headers: Record<string, string> = userId ? { authorization: `Bearer ${await tokenFor(userId)}` } : {};
  const res = await handler(new Request(`http://localhost/account${path}`, { headers }));
  return { status: res.status, body: await res.json() };
}

/** Root ← middle ← buyer. Middle buys once (so VIP 1: earns level 1); the buyer buys twice, and the
 * commissions of the first purchase are released. */
async function tree() {
  const [row] = await sql<{ c: string[]; p: string }[]>`
    select test_support.chain(3) as c, test_support.package(20000, 100, 30) as p`;
  const [root, middle, buyer] = row!.c as [string, string, string];
  await sql`select test_support.buy(${middle}, ${row!.p})`;
  await sql`select test_support.buy(${buyer}, ${row!.p})`;
  await sql`select money.release_due_commissions(now() + interval '1 year')`;
  await sql`select test_support.buy(${buyer}, ${row!.p})`;
  return { root, middle, buyer };
}

Deno.test("account routes", async (t) => {
  const { root, middle, buyer } = await tree();

  await t.step("GET /account shows balances and totals", async () => {
    const { status, body } = await get("", middle);
    assert.equal(status, 200);
    // 8% of 20000 per purchase: one released, one pending.
    assert.deepEqual(
      body,
      {
        currency: "USD",
        availableMinor: 1600,
        pendingMinor: 1600,
        inTransitMinor: 0,
        owedMinor: 0,
        earnedMinor: 0,
        commissionMinor: 3200,
        withdrawnMinor: 0,
        vipLevel: 1,
        heldMinor: 0,
        frozen: false,
      },
    );
  });

  await t.step("GET /account/ledger pages through every entry once, newest first", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { status, body } = await get(`/ledger?limit=1${cursor ? `&cursor=${cursor}` : ""}`, middle);
      assert.equal(status, 200);
      for (const entry of body.items) seen.push(`${entry.position}/${entry.line}`);
      cursor = body.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    // Accrued, accrued, released (pending -1600, available +1600): four lines.
    assert.equal(seen.length, 4);
    assert.equal(new Set(seen).size, 4);
    const positions = seen.map((s) => Number(s.split("/")[0]));
    assert.deepEqual(positions, [...positions].sort((a, b) => b - a));
  });

  await t.step("a cursor that is not ours is a 400", async () => {
    for (const cursor of ["zzz", btoa('["x"]'), btoa("[1e400, 1]")]) {
      const { status, body } = await get(`/ledger?cursor=${encodeURIComponent(cursor)}`, middle);
      assert.equal(status, 400, cursor);
      assert.equal(body.code, "validation_failed");
    }
    assert.equal((await get("/ledger?limit=0", middle)).status, 400);
    assert.equal((await get("/ledger?limit=101", middle)).status, 400);
    assert.equal((await get("/ledger?page=2", middle)).status, 400);
  });

  await t.step("GET /account/contracts lists the buyer's contracts only", async () => {
    const mine = await get("/contracts", buyer);
    assert.equal(mine.status, 200);
    assert.equal(mine.body.items.length, 2);
    const [contract] = mine.body.items;
    assert.equal(contract.status, "active");
    assert.equal(contract.principalMinor, 20000);
    assert.equal(contract.totalYieldMinor, 20000 * 100 * 30 / 10000);
    assert.equal(contract.accruedMinor, 0);
    assert.equal(new Date(contract.startsAt).getUTCMinutes(), 0, "contracts start on an hour boundary");
    assert.equal((await get("/contracts", middle)).body.items.length, 1, "middle's own purchase only");
    const first = await get("/contracts?limit=1", buyer);
    const second = await get(`/contracts?limit=1&cursor=${first.body.nextCursor}`, buyer);
    assert.equal(second.body.nextCursor, null);
    assert.notEqual(first.body.items[0].id, second.body.items[0].id);
  });

  await t.step("GET /account/network counts levels 1-10", async () => {
    const { status, body } = await get("/network", root);
    assert.equal(status, 200);
    assert.equal(body.directReferrals, 1);
    assert.equal(body.totalNetwork, 2);
    assert.equal(body.levels.length, 10);
    assert.deepEqual(body.levels[0], { level: 1, members: 1, volumeMinor: 20000 });
    assert.deepEqual(body.levels[1], { level: 2, members: 1, volumeMinor: 40000 });
  });

  await t.step("another user's token sees none of it; no token is 401", async () => {
    const [row] = await sql<{ id: string }[]>`select test_support.register() as id`;
    const stranger = await get("/ledger", row!.id);
    assert.deepEqual(stranger.body, { items: [], nextCursor: null });
    assert.equal((await get("")).status, 401);
    assert.equal((await get("/network")).status, 401);
  });

  await sql.end();
});
