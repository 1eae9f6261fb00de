// What the earnings tests share: a scratch database of their own (the earnings watermark is global and
// these tests commit), contracts bought some hours ago, and the check that every user earned what the
// contract terms say for the periods accrued.
import assert from "node:assert/strict";
import { createSql, type Sql } from "../supabase/functions/_shared/infra/db.ts";
import { scratchDatabase } from "./scratch_db.ts";

export type Fixture = { sql: Sql; url: string; drop: () => Promise<void> };

export async function fixture(poolSize: number): Promise<Fixture> {
  const db = await scratchDatabase();
  return { ...db, sql: createSql(db.url, poolSize) };
}

export async function close(f: Fixture) {
  await f.sql.end();
  await f.drop();
}

/** Users each holding contracts bought `hoursAgo` hours ago (so a few periods are due now). */
export async function contracts(sql: Sql, users: number, perUser: number, hoursAgo: number) {
  await sql`
    with p as (select test_support.package(123457, 77, 5) as id),
         u as (select test_support.register() as id from generate_series(1, ${users}))
    select test_support.buy(u.id, p.id, now() - make_interval(hours => ${hoursAgo}))
    from u, p, generate_series(1, ${perUser})`;
}

/** Users whose earned balance or earnings ledger lines differ from floor(T k / N) per contract for the k
 * periods up to the watermark (written out here rather than through the function under test). */
async function usersEarningWrongly(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from (
      select a.user_id from public.user_accounts a
      left join (select user_id,
                   sum(floor(total_yield_minor::numeric
                       * greatest(0, floor(extract(epoch from money.earnings_watermark() - starts_at) / 3600))
                       / (duration_days * 24))) as expected
                 from public.contracts group by user_id) c using (user_id)
      where a.earned_minor <> coalesce(c.expected, 0)
         or a.earned_minor <> (select coalesce(sum(amount_minor), 0) from public.ledger_entries l
                               where l.user_id = a.user_id and l.event_type = 'EarningsAccrued')) w`;
  return row!.n;
}

/** One EarningsAccrued per stream: [streams, events]. */
async function earningsStreamsAndEvents(sql: Sql): Promise<[number, number]> {
  const [row] = await sql<{ streams: number; events: number }[]>`
    select count(distinct stream_id)::int as streams, count(*)::int as events
    from event_store.events where type = 'EarningsAccrued'`;
  return [row!.streams, row!.events];
}

/** What both earnings suites check first: some EarningsAccrued, one per stream (`streams` says what a stream
 * is in that suite), and every user paid exactly floor(T k / N) per contract, once. */
export async function assertEarnedExactlyOnce(sql: Sql, streams: string): Promise<void> {
  const [streamCount, events] = await earningsStreamsAndEvents(sql);
  assert.equal(events, streamCount, `one EarningsAccrued per ${streams}`);
  assert.ok(events > 0);
  assert.equal(
    await usersEarningWrongly(sql),
    0,
    "every user earned exactly floor(T k / N) per contract, once",
  );
}

/** And last: a rebuild gives the same rows (the scratch database is dropped, so it may commit). */
export async function assertRebuildEqualsLive(sql: Sql): Promise<void> {
  const [rebuild] = await sql`select count(*)::int as n from projections.verify_rebuild()`;
  assert.equal(rebuild!.n, 0, "a rebuild gives the same rows");
}
