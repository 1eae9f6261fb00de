// Account controls through the admin routes, in-process against the real local Postgres: a freeze
// racing twenty withdrawals (each either committed before the freeze or refused), the frozen account's
// 403s on purchases and withdrawals, and role changes (a demoted admin's next request is refused).
import assert from "node:assert/strict";
import { createSql } from "../_shared/infra/db.ts";
import { DATABASE_URL } from "../../../tests/support.ts";
import { call, kycStack, newUser } from "../kyc/kyc_test_support.ts";
import { moneyWorld, tokenFor } from "../purchases/handler_test_support.ts";
import { createWithdrawalsHandler } from "../withdrawals/handler.ts";
import { redis } from "../_shared/infra/redis.ts";
import { rateLimits, TEST_TOKENS } from "../auth/handler_test_support.ts";

const sql = createSql(DATABASE_URL, 30);
const stack = await kycStack(sql);
const money = moneyWorld();
const withdrawals = createWithdrawalsHandler({
  sql: () => sql,
  redis,
  tokens: TEST_TOKENS,
  rateLimits: rateLimits({ enabled: false }),
  ip: { header: "x-forwarded-for", hop: "first" },
});
globalThis.addEventListener("unload", () => {
  void sql.end();
  void money.close();
  void stack.cleanup();
});

/** Reject what a test left pending: the shared review queue (other tests read its oldest page) stays short. */
async function rejectPending(userId: string, adminId: string) {
  await sql`select money.decide_withdrawal(withdrawal_id, ${adminId}::uuid, 'reject')
            from public.withdrawals where user_id = ${userId} and status = 'pending'`;
}

/** A user with approved KYC and `available` minor units (8% of the price, released). */
async function fundedUser(priceMinor = 100_000) {
  const user = await newUser(sql);
  await sql`select test_support.fund(${user.id}, ${priceMinor}), test_support.approve_kyc(${user.id})`;
  return user;
}

const withdraw = (token: string, amountMinor: number) =>
  call(withdrawals, "/withdrawals", {
    token,
    json: { amountMinor, currency: "USD", destination: "IBAN DE89 3704" },
  });

Deno.test("a freeze racing 20 withdrawals: each withdrawal committed before the freeze or was refused", async () => {
  const admin = await newUser(sql, { admin: true });
  for (let round = 0; round < 3; round++) {
    const user = await fundedUser(500_000); // 40,000 available: enough for every withdrawal
    const freezeAt = 5 + round * 5; // the freeze starts among the withdrawals, not first or last
    const requests = Array.from(
      { length: 21 },
      (_, i) =>
        i === freezeAt
          ? call(stack.admin, `/admin/users/${user.id}/freeze`, {
            token: admin.token,
            json: { reason: "fraud_suspected" },
          })
          : withdraw(user.token, 1000),
    );
    const results = await Promise.all(requests);
    assert.equal(results[freezeAt]!.status, 200, JSON.stringify(results[freezeAt]!.body));
    const others = results.filter((_, i) => i !== freezeAt);
    for (const r of others) {
      assert.ok(
        r.status === 201 || (r.status === 403 && r.body.code === "account_frozen"),
        `${r.status} ${JSON.stringify(r.body)}`,
      );
    }
    const accepted = others.filter((r) => r.status === 201).length;
    const [facts] = await sql<{ frozen_at: number; last_withdrawal: number | null; withdrawals: number }[]>`
      select (select position from event_store.events where stream_id = ${"user-" + user.id}
                and type = 'AccountFrozen')::int as frozen_at,
             (select max(e.position) from event_store.events e join public.withdrawals w
                on e.stream_id = 'withdrawal-' || w.withdrawal_id
              where w.user_id = ${user.id} and e.type = 'WithdrawalRequested')::int as last_withdrawal,
             (select count(*) from public.withdrawals where user_id = ${user.id})::int as withdrawals`;
    assert.equal(facts!.withdrawals, accepted, "every 201 is a withdrawal, every 403 wrote none");
    assert.ok(
      facts!.last_withdrawal === null || facts!.last_withdrawal < facts!.frozen_at,
      `round ${round}: a withdrawal landed after the freeze (${JSON.stringify(facts)})`,
    );
    await rejectPending(user.id, admin.id);
  }
});

Deno.test("a frozen account gets 403 account_frozen on purchases and withdrawals, and back after unfreezing", async () => {
  const admin = await newUser(sql, { admin: true });
  const user = await fundedUser();
  const [pkg] = await sql<{ id: string }[]>`select test_support.package(10000, 100, 30) as id`;
  const buy = async () =>
    await money.purchases(
      new Request("http://localhost/purchases", {
        method: "POST",
        headers: { authorization: `Bearer ${await tokenFor(user.id)}`, "content-type": "application/json" },
        body: JSON.stringify({ packageId: pkg!.id }),
      }),
    );

  const frozen = await call(stack.admin, `/admin/users/${user.id}/freeze`, {
    token: admin.token,
    json: { reason: "chargeback_risk", note: "Three disputes in a week" },
  });
  assert.equal(frozen.status, 200);
  assert.deepEqual(
    {
      frozen: frozen.body.frozen,
      reason: frozen.body.reason,
      by: frozen.body.frozenBy,
      changed: frozen.body.changed,
    },
    { frozen: true, reason: "chargeback_risk", by: admin.id, changed: true },
  );
  const sessionsBefore = money.fakeStripe.sessions.size;
  const purchase = await buy();
  assert.equal(purchase.status, 403);
  assert.equal((await purchase.json()).code, "account_frozen");
  assert.equal(money.fakeStripe.sessions.size, sessionsBefore, "no Checkout Session was opened");
  const w = await withdraw(user.token, 1000);
  assert.equal(w.status, 403);
  assert.equal(w.body.code, "account_frozen");

  const again = await call(stack.admin, `/admin/users/${user.id}/freeze`, {
    token: admin.token,
    json: { reason: "other" },
  });
  assert.deepEqual([again.status, again.body.changed, again.body.reason], [200, false, "chargeback_risk"]);

  const thawed = await call(stack.admin, `/admin/users/${user.id}/unfreeze`, {
    token: admin.token,
    json: { reason: "review_cleared" },
  });
  assert.deepEqual([thawed.status, thawed.body.frozen, thawed.body.changed], [200, false, true]);
  assert.equal((await buy()).status, 201);
  assert.equal((await withdraw(user.token, 1000)).status, 201);
  await rejectPending(user.id, admin.id);
});

Deno.test("freeze and role routes refuse bad input, unknown users and one's own account, writing nothing", async () => {
  const admin = await newUser(sql, { admin: true });
  const user = await newUser(sql);
  const [before] = await sql<{ last: number }[]>`select max(position)::int as last from event_store.events`;
  const cases: [string, unknown, number, string][] = [
    [`/admin/users/${user.id}/freeze`, {}, 400, "validation_failed"],
    [`/admin/users/${user.id}/freeze`, { reason: "Because I said so" }, 400, "validation_failed"],
    [`/admin/users/${user.id}/freeze`, { reason: "review_cleared" }, 400, "validation_failed"],
    [`/admin/users/${user.id}/freeze`, { reason: "other", extra: 1 }, 400, "validation_failed"],
    [`/admin/users/${crypto.randomUUID()}/freeze`, { reason: "other" }, 404, "not_found"],
    ["/admin/users/not-a-uuid/freeze", { reason: "other" }, 404, "not_found"],
    [`/admin/users/${admin.id}/freeze`, { reason: "other" }, 403, "forbidden"],
    [`/admin/users/${user.id}/role`, { role: "root" }, 400, "validation_failed"],
    [`/admin/users/${crypto.randomUUID()}/role`, { role: "admin" }, 404, "not_found"],
  ];
  for (const [path, json, status, code] of cases) {
    const res = await call(stack.admin, path, { token: admin.token, json });
    assert.deepEqual([res.status, res.body.code], [status, code], `${path} ${JSON.stringify(json)}`);
  }
  const asUser = await call(stack.admin, `/admin/users/${admin.id}/role`, {
    token: user.token,
    json: { role: "user" },
  });
  assert.equal(asUser.status, 403, "a user changes no role");
  const [after] = await sql<{ last: number }[]>`select max(position)::int as last from event_store.events`;
  assert.equal(after!.last, before!.last, "nothing was recorded");
});

Deno.test("a demoted admin's next request is refused with the token they still hold; RoleChanged records who", async () => {
  const admin = await newUser(sql, { admin: true });
  const other = await newUser(sql, { admin: true });
  assert.equal((await call(stack.admin, "/admin/users", { token: other.token })).status, 200);
  const demoted = await call(stack.admin, `/admin/users/${other.id}/role`, {
    token: admin.token,
    json: { role: "user", note: "Left the team" },
  });
  assert.deepEqual(demoted.body, { userId: other.id, role: "user", changed: true });
  const refused = await call(stack.admin, "/admin/users", { token: other.token });
  assert.deepEqual([refused.status, refused.body.code], [403, "forbidden"]);
  const [event] = await sql<{ data: Record<string, unknown>; note: string }[]>`
    select e.data, n.note from event_store.events e
    join private.account_control_notes n on n.event_position = e.position
    where e.stream_id = ${"user-" + other.id} and e.type = 'RoleChanged'`;
  assert.deepEqual(event!.data, { userId: other.id, fromRole: "admin", toRole: "user", adminId: admin.id });
  assert.equal(event!.note, "Left the team", "the note is kept privately, beside the event");
  const promoted = await call(stack.admin, `/admin/users/${other.id}/role`, {
    token: admin.token,
    json: { role: "admin" },
  });
  assert.deepEqual([promoted.status, promoted.body.changed], [200, true]);
});
