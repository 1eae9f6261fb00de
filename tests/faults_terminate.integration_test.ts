// A connection cut by pg_terminate_backend inside the purchase, refund, withdrawal and earnings
// transactions leaves nothing half-applied, and the retry applies the command exactly once.
//
// Where to cut, deterministically: every table a command writes or locks is a point inside its
// transaction (the first write to a table comes after the writes before it). A dry run of the command,
// rolled back, lists those tables from pg_locks (RowExclusiveLock for a write, RowShareLock for
// SELECT … FOR UPDATE). For each one, a second session holds `LOCK TABLE … IN EXCLUSIVE MODE` (reads
// pass, writes and row locks wait), the command runs until pg_stat_activity shows it waiting for that
// lock, which is exactly when it has done everything before that table, and its backend is terminated
// there. No sleeps and no random delays: every point is hit every run, in the same state, and the
// number of points is printed. Then every table of the database must be byte-for-byte as before.
import assert from "node:assert/strict";
import type { Sql } from "../supabase/functions/_shared/infra/db.ts";
import { changedTables, fingerprint, moneyViolations } from "./fault_support.ts";
import { waitFor } from "./local_redis.ts";
import { type PrivateCluster, startPrivateCluster } from "./private_cluster.ts";

type Command = {
  name: string;
  /** The command as one statement, exactly as production calls it (one SQL function call). */
  run: (sql: Sql) => Promise<unknown>;
  /** After it succeeded: its effect is there exactly once. */
  appliedOnce: (sql: Sql) => Promise<void>;
};

/** The tables the command writes or row-locks, from a rolled-back dry run. */
async function lockPoints(cluster: PrivateCluster, command: Command): Promise<string[]> {
  const sql = cluster.sql(1);
  const conn = await sql.reserve();
  try {
    await conn`begin`;
    await command.run(conn);
    const rows = await conn<{ rel: string }[]>`
      select distinct format('%I.%I', n.nspname, c.relname) as rel
      from pg_locks l join pg_class c on c.oid = l.relation join pg_namespace n on n.oid = c.relnamespace
      where l.pid = pg_backend_pid() and l.mode in ('RowExclusiveLock', 'RowShareLock')
        and c.relkind in ('r', 'p') and c.relpersistence = 'p'
        and n.nspname not in ('pg_catalog', 'information_schema')
      order by 1`;
    await conn`rollback`;
    return rows.map((r) => r.rel);
  } finally {
    conn.release();
    await sql.end();
  }
}

/** Runs the command until it waits for `table`, terminates its backend there, and returns the error the
 * client saw. */
async function cutAt(
  cluster: PrivateCluster,
  observer: Sql,
  command: Command,
  table: string,
): Promise<unknown> {
  const holder = cluster.sql(1);
  const victim = cluster.sql(1);
  try {
    const outcome = await holder.begin(async (tx) => {
      await tx.unsafe(`lock table ${table} in exclusive mode`);
      const [backend] = await victim<{ pid: number }[]>`select pg_backend_pid() as pid`;
      const pid = backend!.pid;
      const attempt = command.run(victim).then(() => "committed" as const, (error) => error);
      await waitFor(
        async () => {
          const [row] = await observer<{ waiting: boolean }[]>`
          select coalesce(bool_or(wait_event_type = 'Lock'), false) as waiting from pg_stat_activity where pid = ${pid}`;
          return row!.waiting;
        },
        `${command.name} to wait for ${table}`,
        30_000,
      );
      const [cut] = await observer<{ ok: boolean }[]>`select pg_terminate_backend(${pid}) as ok`;
      assert.ok(cut!.ok, `terminated ${command.name} at ${table}`);
      return await attempt;
    });
    return outcome;
  } finally {
    await victim.end({ timeout: 1 });
    await holder.end();
  }
}

async function exercise(cluster: PrivateCluster, sql: Sql, command: Command): Promise<number> {
  const points = await lockPoints(cluster, command);
  assert.ok(points.length >= 3, `${command.name} writes several tables (${points.join(", ")})`);
  for (const table of points) {
    const before = await fingerprint(sql);
    const outcome = await cutAt(cluster, sql, command, table);
    assert.notEqual(outcome, "committed", `${command.name} cut at ${table} did not commit`);
    // The client sees the server's FATAL (57P01) or, when the socket closes first, CONNECTION_CLOSED.
    assert.ok(
      ["57P01", "CONNECTION_CLOSED"].includes((outcome as { code?: string }).code ?? ""),
      `${command.name} at ${table}: ${outcome}`,
    );
    assert.deepEqual(changedTables(before, await fingerprint(sql)), [], `${command.name} cut at ${table}`);
  }
  // The retry after all those cuts applies it, once; a second retry changes nothing.
  const untouched = await fingerprint(sql);
  await command.run(sql);
  await command.appliedOnce(sql);
  const after = await fingerprint(sql);
  // The fingerprint does see a command's effect, so "unchanged" after a cut means something.
  const written = changedTables(untouched, after);
  assert.ok(
    written.includes("event_store.events") && written.includes("public.ledger_entries"),
    `${command.name} wrote`,
  );
  await command.run(sql); // each command is idempotent by its id (checkout, Stripe event, withdrawal, period)
  assert.deepEqual(
    changedTables(after, await fingerprint(sql)),
    [],
    `${command.name} run again changes nothing`,
  );
  await command.appliedOnce(sql);
  return points.length;
}

Deno.test("pg_terminate_backend at every table inside purchase, refund, withdrawal and earnings: nothing half-applied, the retry applies once", async () => {
  const cluster = await startPrivateCluster();
  const sql = cluster.sql(4);
  try {
    // A buyer under three VIP uplines (commissions to real accounts), contracts due for earnings, and a
    // KYC-approved user with a balance.
    const [uplines] = await sql<{ ids: string[] }[]>`select test_support.chain(3) as ids`;
    for (const id of uplines!.ids) await sql`select test_support.set_vip(${id}, 3)`;
    const [world] = await sql<{ pkg: string; buyer: string; saver: string }[]>`
      select test_support.package(10000, 100, 30) as pkg, test_support.register(${uplines!.ids[2]!}) as buyer,
             test_support.register() as saver`;
    const [settings] = await sql<{ currency: string }[]>`select currency from money.settings()`;
    const currency = settings!.currency;
    const { pkg, buyer, saver } = world!;
    await sql`select test_support.buy(${buyer}, ${pkg}, now() - interval '5 hours') from generate_series(1, 3)`;
    await sql`select test_support.approve_kyc(${saver}), test_support.fund(${saver}, 100000)`;
    const [paid] = await sql<{ id: string }[]>`select test_support.buy(${buyer}, ${pkg}) as id`;
    const checkout = crypto.randomUUID();
    await sql`select money.start_checkout(${checkout}, ${buyer}, ${pkg}, ${"cs_cut_" + checkout})`;
    const withdrawal = crypto.randomUUID();

    const countEvents = async (stream: string, type: string) => {
      const [row] = await sql<{ n: number }[]>`
        select count(*)::int as n from event_store.events where stream_id = ${stream} and type = ${type}`;
      return row!.n;
    };
    const commands: Command[] = [
      {
        name: "purchase",
        run: (s) =>
          s`select money.complete_purchase(${checkout}, ${"pi_cut_" + checkout}, 10000, ${currency})`,
        appliedOnce: async () => assert.equal(await countEvents(`purchase-${checkout}`, "Purchased"), 1),
      },
      {
        name: "refund",
        run: (s) =>
          s`select money.refund_purchase(${
            "pi_test_" + paid!.id
          }, 4000, ${currency}, 'refund', 'evt_cut_refund')`,
        appliedOnce: async () => {
          assert.equal(await countEvents(`purchase-${paid!.id}`, "PurchaseRefunded"), 1);
          const [p] = await sql`select refunded_minor from public.purchases where purchase_id = ${paid!.id}`;
          assert.equal(p!.refunded_minor, 4000);
        },
      },
      {
        name: "withdrawal",
        run: (s) =>
          s`select money.request_withdrawal(${withdrawal}, ${saver}, 1500, ${currency}, 'DE89 3704 0044 0532 0130 00')`,
        appliedOnce: async () => {
          assert.equal(await countEvents(`withdrawal-${withdrawal}`, "WithdrawalRequested"), 1);
          const [w] =
            await sql`select count(*)::int as n from public.withdrawals where withdrawal_id = ${withdrawal}`;
          assert.equal(w!.n, 1);
        },
      },
      {
        name: "earnings",
        run: (s) => s`select money.run_earnings_job()`,
        appliedOnce: async () => {
          const [e] = await sql<{ periods: number; events: number; succeeded: number }[]>`
            select (select count(distinct stream_id) from event_store.events where type = 'EarningsAccrued')::int as periods,
                   (select count(*) from event_store.events where type = 'EarningsAccrued')::int as events,
                   (select count(*) from money.earnings_runs where status = 'succeeded' and periods > 0)::int as succeeded`;
          assert.ok(e!.periods >= 3, `the due periods are accrued (${e!.periods})`);
          assert.equal(e!.events, e!.periods, "each period once");
          assert.equal(e!.succeeded, 1, "by one run");
        },
      },
    ];
    const cuts: Record<string, number> = {};
    for (const command of commands) cuts[command.name] = await exercise(cluster, sql, command);
    console.log(`pg_terminate_backend points per command: ${JSON.stringify(cuts)}`);
    assert.deepEqual(await moneyViolations(sql), []);
  } finally {
    await sql.end();
    await cluster.remove();
  }
});
