// Exactly once per period, against real concurrency and a real crash. Each test owns a scratch
// database (the earnings watermark is global, and these tests commit); the crash test owns a cluster.
import assert from "node:assert/strict";
import type { Sql } from "../supabase/functions/_shared/infra/db.ts";
import {
  assertEarnedExactlyOnce,
  assertRebuildEqualsLive,
  close,
  contracts,
  fixture,
} from "./earnings_fixture.ts";
import { startPrivateCluster } from "./private_cluster.ts";

/** Every figure must equal what the contract terms say for the periods accrued.
 * dueBy: a time before the runs started; every period that ended by then must be accrued (a run that
 * crosses an hour boundary may also have accrued the next one). */
async function assertExactlyOnce(sql: Sql, dueBy: Date) {
  await assertEarnedExactlyOnce(sql, "period stream");
  const [check] = await sql<{ watermark_ok: boolean }[]>`
    select money.earnings_watermark() between date_trunc('hour', ${dueBy}::timestamptz) and date_trunc('hour', now())
      as watermark_ok`;
  assert.ok(check!.watermark_ok, "every due period is accrued");
  await assertRebuildEqualsLive(sql);
}

Deno.test("ten concurrent runs accrue every period exactly once", async () => {
  const f = await fixture(12);
  try {
    await contracts(f.sql, 40, 3, 6);
    const dueBy = new Date();
    const results = await Promise.all(
      Array.from(
        { length: 10 },
        () => f.sql<{ r: { periods: number } }[]>`select money.run_earnings_job() as r`,
      ),
    );
    const periods = results.map(([row]) => row!.r.periods).sort((a, b) => b - a);
    assert.ok(periods[0]! >= 5, "one run did the due periods");
    assert.deepEqual(periods.slice(1), new Array(9).fill(0), "the nine others found nothing due");
    await assertExactlyOnce(f.sql, dueBy);
    const [runs] = await f.sql`select count(*)::int as n from money.earnings_runs where status = 'succeeded'`;
    assert.equal(runs!.n, 1, "the run history shows the one run that accrued");
  } finally {
    await close(f);
  }
});

// SIGKILL of a backend makes the postmaster end every session of its cluster and recover: on the shared
// cluster that broke other suites' connections and, racing the recovery, this test's own probe ("the
// database system is not yet accepting connections"). So it owns a cluster, and it waits for the
// recovery by an event, not by attempts: a sentinel session's death proves the postmaster has begun the
// crash restart (from then on it refuses connections until recovery ends), so the first connection that
// succeeds afterwards is to the recovered cluster.
Deno.test("a run whose backend is SIGKILLed halfway leaves nothing, and the next run does it all once", async () => {
  const cluster = await startPrivateCluster();
  try {
    const before = cluster.sql(3);
    await contracts(before, 20, 2, 4);
    // The sentinel's query only ends when its session is ended (the crash restart does that).
    const sentinel = await before.reserve();
    const sentinelEnded = sentinel`select pg_sleep(600)`.then(() => false, () => true);
    const victim = await before.reserve();
    const [backend] = await victim`select pg_backend_pid() as pid`;
    await victim`begin`;
    const [partial] = await victim<{ r: { periods: number } }[]>`select money.accrue_due_earnings() as r`;
    assert.ok(partial!.r.periods >= 3, "the doomed run accrued periods, uncommitted");
    Deno.kill(backend!.pid, "SIGKILL");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ended = await Promise.race([
      sentinelEnded,
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 60_000))),
    ]);
    clearTimeout(timer);
    assert.ok(ended, "the postmaster ended every session after the crash");
    await before.end({ timeout: 1 });
    await cluster.waitUntilAccepting();
    const after = cluster.sql(2);
    try {
      const [none] =
        await after`select count(*)::int as n from event_store.events where type = 'EarningsAccrued'`;
      assert.equal(none!.n, 0, "nothing of the killed run is visible");
      const dueBy = new Date();
      await after`select money.run_earnings_job()`;
      await assertExactlyOnce(after, dueBy);
    } finally {
      await after.end();
    }
  } finally {
    await cluster.remove();
  }
});

Deno.test("a purchase committing while a run holds the lock lands in exactly one period", async () => {
  const f = await fixture(12);
  try {
    await contracts(f.sql, 5, 1, 3);
    const [pkg] = await f.sql<{ id: string; buyer: string }[]>`
      select package_id as id, test_support.register() as buyer from public.packages limit 1`;
    const purchaseId = crypto.randomUUID();
    await f.sql`select money.start_checkout(${purchaseId}, ${pkg!.buyer}, ${pkg!.id}, ${
      "cs_race_" + purchaseId
    })`;

    // The run holds the earnings lock (uncommitted); the purchase must wait for it.
    const run = await f.sql.reserve();
    await run`begin`;
    await run`select money.accrue_due_earnings()`;
    let purchased = false;
    const purchase = f.sql`select money.complete_purchase(${purchaseId}, ${
      "pi_race_" + purchaseId
    }, 123457, 'USD')`
      .then(() => (purchased = true));
    // Proof of waiting: the purchase's backend shows up blocked on a lock (polled, bounded), not a sleep.
    let waiting = false;
    for (let poll = 0; poll < 200 && !waiting; poll++) {
      // From another connection: inside run's transaction pg_stat_activity would stay one cached snapshot.
      const [row] = await f.sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity
        where wait_event_type = 'Lock' and query like '%complete_purchase%' and pid <> pg_backend_pid()`;
      waiting = row!.n > 0;
      if (!waiting) await new Promise((r) => setTimeout(r, 25));
    }
    if (!waiting) await run`rollback`; // let the purchase finish, so a failure does not hang the suite
    assert.ok(waiting, "the purchase waits on the run's lock");
    assert.equal(purchased, false, "and has not completed");
    await run`commit`;
    run.release();
    await purchase;

    // Hours later (injected clock), the contract has accrued each of its periods once.
    const [contract] = await f.sql<
      { starts_at: Date }[]
    >`select starts_at from public.contracts where purchase_id = ${purchaseId}`;
    const later = new Date(contract!.starts_at.getTime() + 3 * 3600_000);
    await f.sql`select money.accrue_due_earnings(${later})`;
    await f.sql`select money.accrue_due_earnings(${later})`;
    const [earned] = await f.sql<{ earned: number; total: number; days: number }[]>`
      select a.earned_minor::int as earned, c.total_yield_minor::int as total, c.duration_days as days
      from public.user_accounts a join public.contracts c using (user_id) where c.purchase_id = ${purchaseId}`;
    // The reference, independent of the SQL: floor(T x k / N) for k = 3 of N = 24 x days periods.
    assert.equal(earned!.earned, Math.floor((earned!.total * 3) / (earned!.days * 24)));
    const [rebuild] = await f.sql`select count(*)::int as n from projections.verify_rebuild()`;
    assert.equal(rebuild!.n, 0);
  } finally {
    await close(f);
  }
});
