// Admin authority is read from the database on every admin request: an admin demoted in the database is
// refused at once with the access token they still hold (valid for up to 15 minutes), and nothing changes.
import assert from "node:assert/strict";
import { testSql } from "../../../tests/support.ts";
import { toProblem } from "../_shared/http/app.ts";
import { NotAdminError } from "../_shared/infra/admin_authority.ts";
import { publishPackage } from "../_shared/infra/catalog_store.ts";
import { decideWithdrawal } from "../_shared/infra/withdrawal_store.ts";
import { call, kycStack, newUser } from "../kyc/kyc_test_support.ts";

const sql = testSql(4);
const stack = await kycStack(sql);
globalThis.addEventListener("unload", () => {
  void sql.end();
  void stack.cleanup();
});

const newPackageBody = {
  name: "Demoted",
  priceMinor: 10000,
  currency: "USD",
  dailyRateBps: 100,
  durationDays: 30,
};

/** A customer with a pending withdrawal and another with a pending KYC case. */
async function pendingWork(): Promise<{ withdrawalId: string; caseId: string }> {
  const [row] = await sql<{ w: string; c: string }[]>`
    with u as (select test_support.kyc_user() as id), w as (select gen_random_uuid() as id)
    select (select id from w) as w,
           (select test_support.fund(id) is not null and test_support.approve_kyc(id) is not null
              and money.request_withdrawal((select id from w), id, 2000, 'USD', 'IBAN DE00') is not null from u) as ok,
           (test_support.kyc_submit(test_support.kyc_user()) ->> 'caseId') as c`;
  return { withdrawalId: row!.w, caseId: row!.c };
}

Deno.test("a demoted admin's unexpired token gets 403 on every admin route, and nothing changes", async () => {
  const admin = await newUser(sql, { admin: true });
  const { withdrawalId, caseId } = await pendingWork();
  const csvBefore = await call(stack.admin, "/admin/users.csv", { token: admin.token });
  assert.equal(csvBefore.status, 200, "an admin reads the CSV");

  await sql`update private.credentials set role = 'user' where user_id = ${admin.id}`;
  const [before] = await sql<{ last: number }[]>`select max(position) as last from event_store.events`;

  const attempts: [string, string, unknown?][] = [
    ["GET", "/admin/users.csv"],
    ["GET", "/admin/users"],
    ["GET", "/admin/withdrawals"],
    ["GET", "/admin/kyc"],
    ["GET", `/admin/kyc/${caseId}`],
    ["GET", "/admin/earnings-runs"],
    ["POST", `/admin/withdrawals/${withdrawalId}/decision`, { decision: "approve" }],
    ["POST", `/admin/kyc/${caseId}/decision`, { decision: "approve" }],
    ["POST", "/admin/kyc/decisions", { items: [{ caseId, decision: "approve" }] }],
    ["POST", "/admin/packages", newPackageBody],
  ];
  for (const [method, path, json] of attempts) {
    const res = await call(stack.admin, path, { method, token: admin.token, ...(json ? { json } : {}) });
    assert.equal(res.status, 403, `${method} ${path}`);
    assert.equal(res.body.code, "forbidden", `${method} ${path}`);
  }

  const [after] = await sql<{ last: number; withdrawal: string; kyc: string }[]>`
    select (select max(position) from event_store.events) as last,
           (select status from public.withdrawals where withdrawal_id = ${withdrawalId}) as withdrawal,
           (select status from public.kyc_cases where case_id = ${caseId}) as kyc`;
  assert.deepEqual(after, { last: before!.last, withdrawal: "pending", kyc: "pending" }, "nothing changed");
});

Deno.test("the SQL commands check the role themselves: their refusal is NotAdminError, a 403", async () => {
  // What a demotion landing between the guard's read and the command looks like to the route.
  const user = await newUser(sql);
  const { withdrawalId } = await pendingWork();
  const metadata = { actorId: user.id, requestId: "demoted-admin-test" };
  await assert.rejects(
    decideWithdrawal(sql, {
      withdrawalId,
      adminId: user.id,
      decision: "approve",
      reference: null,
      reason: null,
      metadata,
    }),
    NotAdminError,
  );
  await assert.rejects(publishPackage(sql, crypto.randomUUID(), newPackageBody, metadata), NotAdminError);
  const problem = toProblem(new NotAdminError("not an admin"));
  assert.equal(problem.status, 403);
  assert.equal(problem.code, "forbidden");
});
