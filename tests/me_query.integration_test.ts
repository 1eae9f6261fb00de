// GET /auth/me's read (loadAccount → private.account_json): every field, for each kind of account.
import assert from "node:assert/strict";
import { loadAccount } from "../supabase/functions/_shared/infra/identity_store.ts";
import { testSql } from "./support.ts";

Deno.test("loadAccount answers every field of each kind of account, and null for an unknown user", async () => {
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
    const [user] = await sql<{ referral_code: string; registered_at: Date }[]>`
      select referral_code, registered_at from public.users where user_id = ${plain}::uuid`;
    const referred = await register(user!.referral_code);
    const verified = await register();
    await sql`select test_support.verify_email(${verified}::uuid)`;
    const suppressed = await register();
    await sql`
      insert into notify.suppressions (email, reason)
      select email, 'bounce' from private.profiles where user_id = ${suppressed}`;

    assert.deepEqual(await loadAccount(sql, plain), {
      id: plain,
      email: `me-query-${plain}@example.test`,
      role: "user",
      referralCode: user!.referral_code,
      referrerId: null,
      vipLevel: 0,
      kycStatus: "none",
      // Milliseconds and Z, as every time in the API.
      createdAt: user!.registered_at.toISOString(),
      emailVerified: false,
      emailDeliverable: true,
    });
    assert.equal((await loadAccount(sql, referred))?.referrerId, plain);
    const accounts = await Promise.all([verified, suppressed, admin].map((id) => loadAccount(sql, id)));
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
