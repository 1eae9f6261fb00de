// Admin search by email substring, name, referral code and id, and one user at a glance, in-process
// against the real local Postgres.
import assert from "node:assert/strict";
import { createSql } from "../_shared/infra/db.ts";
import { DATABASE_URL } from "../../../tests/support.ts";
import { call, kycStack, newUser } from "../kyc/kyc_test_support.ts";

const sql = createSql(DATABASE_URL, 4);
const stack = await kycStack(sql);
globalThis.addEventListener("unload", () => {
  void sql.end();
  void stack.cleanup();
});

Deno.test("search finds a user by an email substring, a KYC name, a referral code (any case) or an id", async () => {
  const admin = await newUser(sql, { admin: true });
  const user = await newUser(sql);
  const [row] = await sql<{ code: string; marker: string }[]>`
    select referral_code as code, split_part(split_part(${user.email}, '@', 1), '-', 3) as marker
    from public.users where user_id = ${user.id}`;
  const caseId = crypto.randomUUID();
  const name = `Zebulon Quaxworth ${caseId.slice(0, 8)}`;
  await sql`insert into private.kyc_applicants (case_id, user_id, full_name, date_of_birth, country)
            values (${caseId}, ${user.id}, ${name}, '1990-01-01', 'DE')`;
  const ids = async (search: string) => {
    const res = await call(stack.admin, `/admin/users?search=${encodeURIComponent(search)}&limit=100`, {
      token: admin.token,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return (res.body.items as { id: string }[]).map((u) => u.id);
  };
  assert.deepEqual(await ids(row!.marker), [user.id], "a substring from the middle of the email");
  assert.deepEqual(await ids(row!.marker.toUpperCase()), [user.id], "in any case");
  assert.deepEqual(await ids(`quaxworth ${caseId.slice(0, 8)}`), [user.id], "a part of the applicant's name");
  assert.deepEqual(await ids(row!.code.toLowerCase()), [user.id], "the referral code");
  assert.deepEqual(await ids(user.id), [user.id], "the id");
  assert.deepEqual(await ids(`%${row!.marker}`), [], "LIKE wildcards are taken literally");
  const short = await ids(user.email.slice(0, 2));
  assert.ok(short.length > 0, "a two-character term matches an email prefix");
});

Deno.test("GET /admin/users/{id}: one user at a glance, lists bounded; unknown users 404", async () => {
  const admin = await newUser(sql, { admin: true });
  const user = await newUser(sql);
  await sql`select test_support.fund(${user.id}), test_support.approve_kyc(${user.id})`;
  await sql`select money.request_withdrawal(gen_random_uuid(), ${user.id}, 1000, 'USD', 'IBAN DE00')
            from generate_series(1, 3)`;
  await call(stack.admin, `/admin/users/${user.id}/freeze`, {
    token: admin.token,
    json: { reason: "compliance_review", note: "Regulator asked" },
  });
  const res = await call(stack.admin, `/admin/users/${user.id}?limit=2`, { token: admin.token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const o = res.body;
  assert.equal(o.profile.email, user.email);
  assert.deepEqual([o.flags.frozen, o.flags.frozenReason, o.flags.kycStatus], [
    true,
    "compliance_review",
    "approved",
  ]);
  assert.deepEqual([o.balances.availableMinor, o.balances.inTransitMinor], [5000, 3000]);
  assert.deepEqual(
    [o.withdrawals.total, o.withdrawals.items.length],
    [3, 2],
    "the newest 2 of 3 withdrawals",
  );
  assert.deepEqual(o.commissionsByLevel, [{
    level: 1,
    count: 1,
    earnedMinor: 8000,
    releasedMinor: 8000,
    pendingMinor: null,
  }]);
  assert.equal(o.downline.levels.length, 10);
  assert.equal(o.recentEvents.length, 2);
  assert.equal(o.recentEvents[0].type, "AccountFrozen");
  assert.deepEqual(
    [o.adminActions[0].type, o.adminActions[0].adminId, o.adminActions[0].note],
    ["AccountFrozen", admin.id, "Regulator asked"],
  );
  const older = await call(
    stack.admin,
    `/admin/users/${user.id}?limit=2&eventsBefore=${o.recentEvents[1].position}`,
    {
      token: admin.token,
    },
  );
  assert.ok(
    older.body.recentEvents.every((e: { position: number }) => e.position < o.recentEvents[1].position),
  );

  for (
    const [path, status] of [
      [`/admin/users/${crypto.randomUUID()}`, 404],
      ["/admin/users/nope", 404],
      [`/admin/users/${user.id}?limit=0`, 400],
      [`/admin/users/${user.id}?color=red`, 400],
    ] as const
  ) {
    assert.equal((await call(stack.admin, path, { token: admin.token })).status, status, path);
  }
  assert.equal((await call(stack.admin, `/admin/users/${user.id}`, { token: user.token })).status, 403);
  await sql`select money.decide_withdrawal(withdrawal_id, ${admin.id}::uuid, 'reject')
            from public.withdrawals where user_id = ${user.id} and status = 'pending'`;
});
