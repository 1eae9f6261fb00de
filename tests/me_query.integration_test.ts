// GET /auth/me reads its account with private.account_json's body written inline (identity_store.ts,
// for speed): the two must answer the same for every kind of account, or one of them drifted.
import assert from "node:assert/strict";
import { loadAccount } from "../supabase/functions/_shared/infra/identity_store.ts";
import { testSql } from "./support.ts";

Deno.test("loadAccount answers exactly what private.account_json answers", async () => {
  const sql = testSql(2);
  try {
    // A full account (profile and credentials), as signup makes it.
    const register = async (referredByCode: string | null = null) => {
      const id = crypto.randomUUID();
      await sql`
        select private.register_user(${id}::uuid, ${`me-query-${id}@example.test`}::text, '$scrypt$x'::text,
          test_support.referral_code(), ${referredByCode}::text, gen_random_uuid(), md5(${id}::text) || md5(${id}::text), 60)`;
      return id;
    };
    const plain = await register();
    const [row] = await sql<{ admin: string }[]>`select test_support.admin() as admin`;
    const admin = row!.admin;
    const [code] = await sql<{ referral_code: string }[]>`
      select referral_code from public.users where user_id = ${plain}::uuid`;
    const referred = { id: await register(code!.referral_code) };
    const verified = { id: await register() };
    await sql`select test_support.verify_email(${verified.id}::uuid)`;
    const suppressed = { id: await register() };
    await sql`
      insert into notify.suppressions (email, reason)
      select email, 'bounce' from private.profiles where user_id = ${suppressed.id}`;

    for (const id of [plain, admin, referred.id, verified.id, suppressed.id]) {
      const [expected] = await sql<
        { account: unknown }[]
      >`select private.account_json(${id}::uuid) as account`;
      assert.notEqual(expected!.account, null, id);
      assert.deepEqual(await loadAccount(sql, id), expected!.account, id);
    }
    assert.equal((await loadAccount(sql, referred.id))?.referrerId, plain);
    const accounts = await Promise.all(
      [verified.id, suppressed.id, admin].map((id) => loadAccount(sql, id)),
    );
    assert.deepEqual(accounts.map((a) => [a?.emailVerified, a?.emailDeliverable, a?.role]), [
      [true, true, "user"],
      [false, false, "user"],
      [false, true, "admin"],
    ]);
    assert.equal(await loadAccount(sql, crypto.randomUUID()), null);
  } finally {
    await sql.end();
  }
});
