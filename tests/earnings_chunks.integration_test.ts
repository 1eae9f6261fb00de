// Chunked earnings runs (money.run_earnings) against real concurrency and a real crash between chunks.
// Each test owns a scratch database: the earnings watermark is global, and these tests commit.
import assert from "node:assert/strict";
import type { Sql } from "../supabase/functions/_shared/infra/db.ts";
import {
  assertEarnedExactlyOnce,
  assertRebuildEqualsLive,
  close,
  contracts,
  fixture,
} from "./earnings_fixture.ts";

/** Every user earned floor(T k / N) per contract for the k periods by the watermark, once, in one ledger line
 * per period; every period is complete; a rebuild gives the same rows. */
async function assertExactlyOnce(sql: Sql) {
  await assertEarnedExactlyOnce(sql, "chunk stream");
  const [check] = await sql<{ open: number; lines_per_period: number }[]>`
    select (select count(*) from public.earnings_periods where not complete)::int as open,
           (select coalesce(max(n), 0) from (
              select count(*) as n from public.ledger_entries l join event_store.events e on e.position = l.event_position
              where l.event_type = 'EarningsAccrued' and l.user_id is not null
              group by l.user_id, e.data ->> 'periodStartsAt') x)::int as lines_per_period`;
  assert.equal(check!.open, 0, "no period is left open");
  assert.equal(check!.lines_per_period, 1, "one earnings line per user per period");
  await assertRebuildEqualsLive(sql);
}

Deno.test("money commands run between the chunks of a run, and every period is still accrued once", async () => {
  const f = await fixture(8);
  try {
    await contracts(f.sql, 60, 2, 3);
    const [someone] = await f.sql<{ id: string }[]>`select user_id as id from public.users limit 1`;
    // A run in chunks of 10 contracts (about 12 chunks per period), while another connection takes the
    // users' lock as every money command does, and notes whether a period was open (between two chunks).
    let running = true;
    let betweenChunks = 0;
    let commands = 0;
    const commandsLoop = (async () => {
      while (running && commands < 5000) {
        const [row] = await f.sql.begin(async (tx) => {
          await tx`select money.lock_users(${[someone!.id]}::uuid[])`;
          return await tx<
            { open: boolean }[]
          >`select exists (select from public.earnings_periods where not complete) as open`;
        });
        commands++;
        if (row!.open) betweenChunks++;
      }
    })();
    await f.sql`call money.run_earnings(null, 10)`;
    running = false;
    await commandsLoop;
    assert.ok(
      betweenChunks > 0,
      `a money command got its lock while a period was half accrued (${commands} commands)`,
    );
    await assertExactlyOnce(f.sql);
    const runs = await f.sql<{ periods: number; status: string; accrued: number }[]>`
      select periods, status, (select count(*)::int from public.earnings_periods) as accrued from money.earnings_runs`;
    assert.equal(runs.length, 1, "one run recorded");
    assert.equal(runs[0]!.status, "succeeded");
    assert.equal(runs[0]!.periods, runs[0]!.accrued, "the run history shows every period it completed");
  } finally {
    await close(f);
  }
});

Deno.test("a run killed between chunks leaves the period open, and the next run completes it once", async () => {
  const f = await fixture(8);
  try {
    await contracts(f.sql, 30, 2, 2);
    // The first chunk commits (as money.run_earnings does after each one).
    const [first] = await f.sql<{ r: { periodComplete: boolean } }[]>`
      select money.accrue_earnings_chunk(now(), 10) as r`;
    assert.equal(first!.r.periodComplete, false);
    // The second chunk is in flight when its backend is terminated.
    // (psql, not the pool: the connection dies under it.)
    const victim = new Deno.Command("psql", {
      args: [
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        f.url,
        "-c",
        "begin; select money.accrue_earnings_chunk(now(), 10); select pg_sleep(600); commit;",
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    // Terminated once its chunk is appended (polled, bounded): the backend sleeping inside the transaction.
    let killed = false;
    for (let poll = 0; poll < 400 && !killed; poll++) {
      const [row] = await f.sql<{ n: number }[]>`
        select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
        where datname = current_database() and query like '%pg_sleep(600)%' and state = 'active'
          and wait_event = 'PgSleep' and pid <> pg_backend_pid()`;
      killed = row!.n > 0;
      if (!killed) await new Promise((r) => setTimeout(r, 25));
    }
    if (!killed) victim.kill();
    assert.ok(killed, "the second chunk's backend was terminated");
    assert.equal((await victim.status).success, false, "its transaction failed");
    const [state] = await f.sql<{ chunks: number; complete: boolean; events: number }[]>`
      select p.chunks, p.complete,
             (select count(*)::int from event_store.events where type = 'EarningsAccrued') as events
      from public.earnings_periods p`;
    assert.deepEqual(state, { chunks: 1, complete: false, events: 1 }, "only the committed chunk is visible");
    await f.sql`call money.run_earnings(null, 10)`;
    await assertExactlyOnce(f.sql);
  } finally {
    await close(f);
  }
});

Deno.test("purchases committing during a chunked run land in no open period and later periods accrue them once", async () => {
  const f = await fixture(8);
  try {
    await contracts(f.sql, 40, 2, 3);
    const [pkg] = await f.sql<{ id: string }[]>`select package_id as id from public.packages limit 1`;
    const buyers = await f.sql<{ id: string }[]>`
      select test_support.register() as id from generate_series(1, 10)`;
    const run = f.sql`call money.run_earnings(null, 5)`;
    await Promise.all(buyers.map((b) => f.sql`select test_support.buy(${b.id}, ${pkg!.id})`));
    await run;
    await f.sql`call money.run_earnings(null, 5)`; // whatever the first run had not seen
    await assertExactlyOnce(f.sql);
    // Hours later (injected clock), the new contracts' periods are accrued once each as well.
    const [later] = await f.sql<
      { at: Date }[]
    >`select max(starts_at) + interval '2 hours' as at from public.contracts`;
    await f.sql`call money.run_earnings(${later!.at}, 7)`;
    await assertExactlyOnce(f.sql);
  } finally {
    await close(f);
  }
});
