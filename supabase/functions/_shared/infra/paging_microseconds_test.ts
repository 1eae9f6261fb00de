// Keyset pages whose time key differs only in microseconds, against the real local Postgres. A page's
// last key carries microseconds (money.rfc3339); if the next query let postgres.js type the parameter
// timestamptz, it would pass through a JS Date and lose them: newest-first pages would skip the rest of
// that millisecond, oldest-first pages would repeat it.
import assert from "node:assert/strict";
import { createSql } from "./db.ts";
import { DATABASE_URL } from "../../../../tests/support.ts";
import { type ContractKey, listContracts } from "./account_store.ts";
import { listMyWithdrawals, listWithdrawalsForReview, type WithdrawalKey } from "./withdrawal_store.ts";
import { listPurchases, type PurchaseKey } from "./purchase_store.ts";

const sql = createSql(DATABASE_URL, 2);

// Three times inside one millisecond of a year no other test writes, oldest first.
const TIMES = ["2033-03-03T00:00:00.123100Z", "2033-03-03T00:00:00.123500Z", "2033-03-03T00:00:00.123900Z"];

/** Pages of one row until the end; the ids in the order they came. */
async function pageByOne<Row extends { id: string }, Key>(
  page: (after: Key | null) => Promise<Row[]>,
  keyOf: (row: Row) => Key,
  rowsMax: number,
): Promise<string[]> {
  const seen: string[] = [];
  let after: Key | null = null;
  for (let i = 0; i <= rowsMax; i++) {
    const rows = await page(after);
    if (rows.length === 0) break;
    seen.push(rows[0]!.id);
    if (rows.length === 1) break;
    after = keyOf(rows[0]!);
  }
  return seen;
}

Deno.test("contracts page newest first through starts_at values within one millisecond, none skipped", async () => {
  const userId = crypto.randomUUID();
  const ids: string[] = TIMES.map(() => crypto.randomUUID());
  for (const [i, id] of ids.entries()) {
    await sql`
      insert into public.contracts (contract_id, user_id, purchase_id, package_id, principal_minor, currency,
                                    daily_rate_bps, duration_days, total_yield_minor, starts_at, ends_at)
      values (${id}::uuid, ${userId}::uuid, gen_random_uuid(), gen_random_uuid(), 10000, 'USD', 80, 30, 2400,
              ${TIMES[i]!}::text::timestamptz, ${TIMES[i]!}::text::timestamptz + interval '30 days')`;
  }
  try {
    const now = new Date("2033-03-04T00:00:00Z");
    const seen = await pageByOne(
      (after: ContractKey | null) => listContracts(sql, userId, 1, after, now),
      (c) => [c.startsAt, c.id] as ContractKey,
      ids.length,
    );
    assert.deepEqual(seen, ids.toReversed());
  } finally {
    await sql`delete from public.contracts where user_id = ${userId}::uuid`;
  }
});

Deno.test("withdrawals page through requested_at values within one millisecond: mine newest first, the review queue oldest first", async () => {
  const userId = crypto.randomUUID();
  const ids: string[] = TIMES.map(() => crypto.randomUUID());
  for (const [i, id] of ids.entries()) {
    await sql`
      insert into public.withdrawals (withdrawal_id, user_id, amount_minor, currency, status, requested_at)
      values (${id}::uuid, ${userId}::uuid, 1000, 'USD', 'pending', ${TIMES[i]!}::text::timestamptz)`;
  }
  try {
    const mine = await pageByOne(
      (after: WithdrawalKey | null) => listMyWithdrawals(sql, userId, 1, after),
      (w) => [w.requestedAt, w.id] as WithdrawalKey,
      ids.length,
    );
    assert.deepEqual(mine, ids.toReversed(), "mine, newest first, none skipped");

    // The queue starts just before these rows (a cursor from the millisecond before) and is read until
    // they are past: nothing repeated, nothing skipped.
    const start: WithdrawalKey = ["2033-03-03T00:00:00.122999Z", "00000000-0000-4000-8000-000000000000"];
    const queue: string[] = [];
    let after: WithdrawalKey = start;
    for (let i = 0; i < ids.length + 1; i++) {
      const [row] = await listWithdrawalsForReview(sql, "pending", 1, after);
      if (!row || !ids.includes(row.id)) break;
      queue.push(row.id);
      after = [row.requestedAt, row.id];
    }
    assert.deepEqual(queue, ids, "the review queue, oldest first, none repeated");
  } finally {
    await sql`delete from public.withdrawals where user_id = ${userId}::uuid`;
  }
});

Deno.test("purchases page newest first through created_at values within one millisecond, none skipped", async () => {
  const userId = crypto.randomUUID();
  const ids: string[] = TIMES.map(() => crypto.randomUUID());
  for (const [i, id] of ids.entries()) {
    await sql`
      insert into public.purchases (purchase_id, user_id, package_id, amount_minor, currency, status,
                                    stripe_session_id, created_at)
      values (${id}::uuid, ${userId}::uuid, gen_random_uuid(), 10000, 'USD', 'pending',
              ${"cs_paging_" + id}, ${TIMES[i]!}::text::timestamptz)`;
  }
  try {
    const seen = await pageByOne(
      async (after: PurchaseKey | null) =>
        (await listPurchases(sql, userId, 1, after)).map((p) => ({ ...p, id: p.purchaseId })),
      (p) => [p.createdAt, p.purchaseId] as PurchaseKey,
      ids.length,
    );
    assert.deepEqual(seen, ids.toReversed());
  } finally {
    await sql`delete from public.purchases where user_id = ${userId}::uuid`;
  }
});

globalThis.addEventListener("unload", () => void sql.end());
