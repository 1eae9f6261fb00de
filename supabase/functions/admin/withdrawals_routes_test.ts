// Admin withdrawal review in-process: the queue, decisions recorded with the admin, illegal ones refused.
import assert from "node:assert/strict";
import { signAccessToken } from "../_shared/auth/jwt.ts";
import { createUserGuard } from "../_shared/auth/guard.ts";
import { createApp } from "../_shared/http/app.ts";
import { createSql } from "../_shared/infra/db.ts";
import { redis } from "../_shared/infra/redis.ts";
import { DATABASE_URL } from "../../../tests/support.ts";
import { rateLimits, TEST_TOKENS } from "../auth/handler_test_support.ts";
import { withdrawalRoutes } from "./withdrawals_routes.ts";

const sql = createSql(DATABASE_URL, 4);
const guard = createUserGuard({
  sql: () => sql,
  redis,
  rateLimits: rateLimits({ enabled: false }),
  tokens: TEST_TOKENS,
  ip: { header: "x-forwarded-for", hop: "first" },
});
const app = createApp({ functionName: "admin", routes: withdrawalRoutes({ sql: () => sql, guard }) });

async function call(userId: string, role: "user" | "admin", path: string, body?: unknown) {
  const token = await signAccessToken(
    { userId, role, sessionId: crypto.randomUUID() },
    TEST_TOKENS,
    new Date(),
  );
  const init: RequestInit = {
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  };
  if (body !== undefined) Object.assign(init, { method: "POST", body: JSON.stringify(body) });
  const res = await app(new Request(`http://localhost/admin${path}`, init));
  return { status: res.status, body: await res.json() };
}

Deno.test("a withdrawal of an account that owes is held (422 invalid_state); rejecting it works", async () => {
  const [row] = await sql<{ u: string; w: string }[]>`
    with u as (select test_support.register() as id)
    select id as u, (select test_support.fund(id)) is not null and (select test_support.approve_kyc(id)) is not null as ok,
           gen_random_uuid() as w from u`;
  await sql`select money.request_withdrawal(${row!.w}, ${row!.u}, 8000, 'USD', 'IBAN DE00')`;
  // The purchase that paid the user's commission is refunded after the hold: 8,000 owed.
  await sql`
    select money.refund_purchase(p.payment_intent_id, p.amount_minor, p.currency, 'refund', 'evt_held_' || p.purchase_id)
    from public.commissions m join public.purchases p using (purchase_id) where m.beneficiary_id = ${row!.u}`;
  const [admin] = await sql<{ id: string }[]>`select test_support.kyc_user(true) as id`;
  const held = await call(admin!.id, "admin", `/withdrawals/${row!.w}/decision`, { decision: "approve" });
  assert.equal(held.status, 422);
  assert.equal(held.body.code, "invalid_state");
  const rejected = await call(admin!.id, "admin", `/withdrawals/${row!.w}/decision`, { decision: "reject" });
  assert.equal(rejected.body.status, "rejected");
  const [account] = await sql<{ available: number; owed: number }[]>`
    select available_minor::int as available, owed_minor::int as owed from public.user_accounts where user_id = ${
    row!.u
  }`;
  assert.deepEqual(account, { available: 0, owed: 0 }, "the returned 8,000 paid the debt");
});

Deno.test("admins review withdrawals; every decision names them; illegal decisions are refused", async () => {
  // The customer is an admin too, so that deciding their own withdrawal is refused for that reason.
  const [row] = await sql<{ u: string; w: string }[]>`
    with u as (select test_support.kyc_user(true) as id)
    select id as u, (select test_support.fund(id)) is not null and (select test_support.approve_kyc(id)) is not null as ok,
           gen_random_uuid() as w from u`;
  await sql`select money.request_withdrawal(${row!.w}, ${row!.u}, 5000, 'USD', 'IBAN DE00')`;
  const [admin] = await sql<{ id: string }[]>`select test_support.kyc_user(true) as id`;
  const adminId = admin!.id;

  assert.equal((await call(adminId, "user", "/withdrawals")).status, 403, "not for users");
  const queue = await call(adminId, "admin", "/withdrawals?status=pending&limit=100");
  assert.equal(queue.status, 200);
  assert.ok(queue.body.items.some((w: { id: string }) => w.id === row!.w));
  assert.equal((await call(adminId, "admin", "/withdrawals?status=nope")).status, 400);

  const paidTooEarly = await call(adminId, "admin", `/withdrawals/${row!.w}/decision`, {
    decision: "mark_paid",
    reference: "r1",
  });
  assert.equal(paidTooEarly.status, 422);
  assert.equal(paidTooEarly.body.code, "invalid_state");
  assert.equal(
    (await call(adminId, "admin", `/withdrawals/${row!.w}/decision`, { decision: "mark_paid" })).status,
    400,
    "mark_paid needs a reference",
  );
  const own = await call(row!.u, "admin", `/withdrawals/${row!.w}/decision`, { decision: "approve" });
  assert.equal(own.status, 403);
  assert.equal(own.body.detail, "Nobody decides their own withdrawal.");
  assert.equal(
    (await call(adminId, "admin", `/withdrawals/${crypto.randomUUID()}/decision`, { decision: "approve" }))
      .status,
    404,
  );

  assert.equal(
    (await call(adminId, "admin", `/withdrawals/${row!.w}/decision`, { decision: "approve" })).body.status,
    "approved",
  );
  const paid = await call(adminId, "admin", `/withdrawals/${row!.w}/decision`, {
    decision: "mark_paid",
    reference: "payout-7",
  });
  assert.equal(paid.body.status, "paid");
  assert.equal(paid.body.reference, "payout-7");
  const [decided] = await sql<{ by: string; actors: string[] }[]>`
    select (select decided_by::text from public.withdrawals where withdrawal_id = ${row!.w}) as by,
           (select array_agg(metadata ->> 'actorId' order by position) from event_store.events
            where stream_id = ${"withdrawal-" + row!.w} and type <> 'WithdrawalRequested') as actors`;
  assert.equal(decided!.by, adminId);
  assert.deepEqual(decided!.actors, [adminId, adminId]);
  await sql.end();
});
