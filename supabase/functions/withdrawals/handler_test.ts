// Withdrawals in-process against the real local Postgres: KYC in the same transaction as the debit,
// exact admission under concurrency, and nothing written for refused requests.
import assert from "node:assert/strict";
import { signAccessToken } from "../_shared/auth/jwt.ts";
import { createSql } from "../_shared/infra/db.ts";
import { redis } from "../_shared/infra/redis.ts";
import { DATABASE_URL } from "../../../tests/support.ts";
import { rateLimits, TEST_TOKENS } from "../auth/handler_test_support.ts";
import { createWithdrawalsHandler } from "./handler.ts";

const sql = createSql(DATABASE_URL, 40);
const handler = createWithdrawalsHandler({
  sql: () => sql,
  redis,
  tokens: TEST_TOKENS,
  rateLimits: rateLimits({ enabled: false }),
  ip: { header: "x-forwarded-for", hop: "first" },
});

async function post(userId: string, body: unknown, headers: Record<string, string> = {}) {
  const token = await signAccessToken(
    { userId, role: "user", sessionId: crypto.randomUUID() },
    TEST_TOKENS,
    new Date(),
  );
  const res = await handler(
    new Request("http://localhost/withdrawals", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );
  return { status: res.status, body: await res.json() };
}

/** A user with `available` minor units available (released commissions) and, optionally, approved KYC. */
async function fundedUser(kyc: boolean) {
  const [row] = await sql<{ id: string; credited: number }[]>`
    with u as (select test_support.register() as id) select id, test_support.fund(id) as credited from u`;
  let caseId: string | null = null;
  if (kyc) caseId = (await sql<{ c: string }[]>`select test_support.approve_kyc(${row!.id}) as c`)[0]!.c;
  return { userId: row!.id, available: row!.credited, caseId };
}

const counts = async (userId: string) =>
  (await sql<{ withdrawals: number; available: number }[]>`
    select (select count(*)::int from public.withdrawals where user_id = ${userId}) as withdrawals,
           (select available_minor from public.user_accounts where user_id = ${userId}) as available`)[0]!;

Deno.test("N concurrent withdrawals of x against B admit exactly floor(B / x), never below zero", async () => {
  const { userId, available } = await fundedUser(true);
  assert.equal(available, 8000);
  const x = 1500;
  const results = await Promise.all(
    Array.from(
      { length: 20 },
      () => post(userId, { amountMinor: x, currency: "USD", destination: "IBAN DE89 3704" }),
    ),
  );
  const accepted = results.filter((r) => r.status === 201);
  const refused = results.filter((r) => r.status === 422 && r.body.code === "insufficient_funds");
  assert.equal(accepted.length, Math.floor(available / x));
  assert.equal(refused.length, 20 - accepted.length);
  const after = await counts(userId);
  assert.equal(after.available, available - accepted.length * x);
  assert.ok(after.available >= 0);
});

Deno.test("no approved KYC is 403 kyc_required; a revoked one blocks the next request", async () => {
  const without = await fundedUser(false);
  const res = await post(without.userId, { amountMinor: 2000, currency: "USD", destination: "IBAN" });
  assert.equal(res.status, 403);
  assert.equal(res.body.code, "kyc_required");
  assert.deepEqual(await counts(without.userId), { withdrawals: 0, available: without.available });

  const revoked = await fundedUser(true);
  assert.equal(
    (await post(revoked.userId, { amountMinor: 2000, currency: "USD", destination: "IBAN" })).status,
    201,
  );
  await sql`select test_support.revoke_kyc(${revoked.caseId})`;
  const blocked = await post(revoked.userId, { amountMinor: 2000, currency: "USD", destination: "IBAN" });
  assert.equal(blocked.body.code, "kyc_required");
});

Deno.test("bad requests are 4xx problems and write nothing", async () => {
  const { userId, available } = await fundedUser(true);
  const cases: [unknown, number, string][] = [
    ["{nope", 400, "invalid_json"],
    [{ amountMinor: 10.5, currency: "USD", destination: "x" }, 400, "validation_failed"],
    [{ amountMinor: "100", currency: "USD", destination: "x" }, 400, "validation_failed"],
    [{ amountMinor: -5, currency: "USD", destination: "x" }, 400, "validation_failed"],
    [{ amountMinor: 2000, currency: "usd", destination: "x" }, 400, "validation_failed"],
    [{ amountMinor: 2000, currency: "USD", destination: "x", extra: true }, 400, "validation_failed"],
    [{ amountMinor: 2000, currency: "USD", destination: "x".repeat(10_000) }, 400, "validation_failed"],
    [{ amountMinor: 2000, currency: "EUR", destination: "x" }, 422, "invalid_amount"],
    [{ amountMinor: 10, currency: "USD", destination: "x" }, 422, "invalid_amount"],
    [{ amountMinor: 999_999, currency: "USD", destination: "x" }, 422, "insufficient_funds"],
    [{ amountMinor: 2000, currency: "USD", destination: "IBAN\u0000DE" }, 400, "validation_failed"],
    [{ amountMinor: 2000, currency: "USD", destination: "'); drop table public.withdrawals; --" }, 201, ""],
  ];
  for (const [body, status, code] of cases) {
    const res = await post(userId, body);
    assert.equal(res.status, status, JSON.stringify(body).slice(0, 80));
    if (code) assert.equal(res.body.code, code);
  }
  assert.deepEqual(await counts(userId), { withdrawals: 1, available: available - 2000 });
});

Deno.test("a destination with control, format, bidi or separator characters is 400 on destination and writes nothing", async () => {
  const { userId, available } = await fundedUser(true);
  const hidden = [
    ...["\u202a", "\u202b", "\u202c", "\u202d", "\u202e"], // bidi embeddings and overrides
    ...["\u2066", "\u2067", "\u2068", "\u2069"], // bidi isolates
    ...["\u200e", "\u200f", "\u061c"], // LRM, RLM, ALM
    ...["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"], // zero-width, word joiner, BOM, soft hyphen
    ...["\u0000", "\u0007", "\t", "\n", "\r", "\u001b", "\u007f", "\u0085"], // C0, DEL, C1 controls
    ...["\u2028", "\u2029"], // line and paragraph separators
    ...["\ud800", "\ue000", "\u{e0041}"], // a lone surrogate, private use, a tag character
  ];
  for (const character of hidden) {
    // "IBAN DE89 <RLO>0013 0440" shows as another account number than the one stored.
    const destination = `IBAN DE89 ${character}0013 0440`;
    const res = await post(userId, { amountMinor: 2000, currency: "USD", destination });
    const label = `U+${character.codePointAt(0)!.toString(16)}`;
    assert.equal(res.status, 400, label);
    assert.equal(res.body.code, "validation_failed", label);
    assert.deepEqual(res.body.errors.map((e: { path: string }) => e.path), ["destination"], label);
    assert.ok(!JSON.stringify(res.body).includes("0013 0440"), "the value is not echoed");
  }
  assert.deepEqual(await counts(userId), { withdrawals: 0, available });
  // Letters and spaces of any script are fine.
  const ok = await post(userId, {
    amountMinor: 2000,
    currency: "USD",
    destination: "Zoë Müller – 山田 IBAN DE89 3704",
  });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
});

Deno.test("a cursor whose date Postgres cannot hold is a 400", async () => {
  const { userId } = await fundedUser(true);
  const token = await signAccessToken(
    { userId, role: "user", sessionId: crypto.randomUUID() },
    TEST_TOKENS,
    new Date(),
  );
  const cursor = btoa(JSON.stringify(["0000-01-01T00:00:00Z", "00000000-0000-4000-8000-000000000000"]));
  const res = await handler(
    new Request(`http://localhost/withdrawals?cursor=${encodeURIComponent(cursor)}`, {
      headers: { authorization: `Bearer ${token}` },
    }),
  );
  assert.equal(res.status, 400);
  assert.equal((await res.json()).code, "validation_failed");
});

Deno.test("while the account owes after a clawback, a withdrawal is 422 outstanding_balance", async () => {
  const { userId } = await fundedUser(true);
  assert.equal((await post(userId, { amountMinor: 8000, currency: "USD", destination: "IBAN" })).status, 201);
  // The purchase that paid the commission is refunded after the hold: 8,000 in transit, 8,000 owed.
  await sql`
    select money.refund_purchase(p.payment_intent_id, p.amount_minor, p.currency, 'refund', 'evt_owe_' || p.purchase_id)
    from public.commissions m join public.purchases p using (purchase_id) where m.beneficiary_id = ${userId}`;
  const res = await post(userId, { amountMinor: 1000, currency: "USD", destination: "IBAN" });
  assert.equal(res.status, 422);
  assert.equal(res.body.code, "outstanding_balance");
  assert.deepEqual(await counts(userId), { withdrawals: 1, available: 0 });
});

Deno.test("an Idempotency-Key replays the first answer and withdraws once", async () => {
  const { userId, available } = await fundedUser(true);
  const key = crypto.randomUUID();
  const body = { amountMinor: 3000, currency: "USD", destination: "IBAN" };
  const first = await post(userId, body, { "idempotency-key": key });
  const again = await post(userId, body, { "idempotency-key": key });
  assert.equal(first.status, 201);
  assert.deepEqual(again, first);
  const reused = await post(userId, { ...body, amountMinor: 3001 }, { "idempotency-key": key });
  assert.equal(reused.body.code, "idempotency_key_reused");
  assert.deepEqual(await counts(userId), { withdrawals: 1, available: available - 3000 });
});

Deno.test("approved KYC but an unverified address is 403 email_unverified, and nothing moves", async () => {
  const { userId, available } = await fundedUser(false);
  // KYC approved through the events the kyc commands append, without the address verification
  // test_support.approve_kyc adds.
  const caseId = crypto.randomUUID();
  await sql`select event_store.append_events(${"kyc-" + caseId}, 'no_stream', ${
    sql.json([
      {
        type: "KycSubmitted",
        data: { caseId, userId, documents: [{ documentId: crypto.randomUUID(), sha256: "a".repeat(64) }] },
      },
      { type: "KycApproved", data: { caseId, userId, adminId: crypto.randomUUID() } },
    ])
  }::jsonb)`;
  const res = await post(userId, { amountMinor: 2000, currency: "USD", destination: "IBAN DE89 3704" });
  assert.deepEqual([res.status, res.body.code], [403, "email_unverified"]);
  assert.deepEqual(await counts(userId), { withdrawals: 0, available });
  await sql`select test_support.verify_email(${userId}::uuid)`;
  const ok = await post(userId, { amountMinor: 2000, currency: "USD", destination: "IBAN DE89 3704" });
  assert.equal(ok.status, 201);
  await sql.end();
});
