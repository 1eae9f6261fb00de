// The read replica: a streaming hot standby of the local cluster (`./dev replica up`, or
// `READ_REPLICA=1 ./dev up`), which READ_DATABASE_URL points the admin finance exports at (readDb). The
// test starts the replica when the stack runs none, and stops what it started. It proves that an export
// is served by the standby while the primary takes writes, and measures the replay lag: a row written on
// the primary is polled for on the standby until it is there (no timed assertion; the lag is printed),
// and the next export from the replica holds it.
import assert from "node:assert/strict";
import { signAccessToken } from "../supabase/functions/_shared/auth/jwt.ts";
import { createUserGuard } from "../supabase/functions/_shared/auth/guard.ts";
import { createApp } from "../supabase/functions/_shared/http/app.ts";
import {
  createSql,
  READ_APPLICATION_NAME,
  readDb,
  type Sql,
} from "../supabase/functions/_shared/infra/db.ts";
import { redis } from "../supabase/functions/_shared/infra/redis.ts";
import { rateLimits, TEST_TOKENS } from "../supabase/functions/auth/handler_test_support.ts";
import { exportRoutes } from "../supabase/functions/admin/exports_routes.ts";
import { DATABASE_URL, testSql } from "./support.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const READ_DB_PORT = Deno.env.get("READ_DB_PORT") ?? "54323";
const REPLICA_URL = Deno.env.get("READ_DATABASE_URL") ??
  Object.assign(new URL(DATABASE_URL), { port: READ_DB_PORT }).href;
/** A standby that has not replayed a write after this long is broken, not slow. */
const VISIBLE_WITHIN_MS_MAX = 120_000;
/** Replaying what the slot kept (at most max_slot_wal_keep_size, 1 GB) on a loaded machine. */
const CAUGHT_UP_WITHIN_MS_MAX = 900_000;

async function dev(...args: string[]): Promise<void> {
  const out = await new Deno.Command(`${ROOT}dev`, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`./dev ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

async function replicaAnswers(): Promise<boolean> {
  const probe = createSql(REPLICA_URL, 1);
  try {
    await probe`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await probe.end();
  }
}

/** Two ledger lines summing to zero per event, in a window of their own (year 2035, a random minute). */
async function writeEvents(sql: Sql, positions: number[], at: string) {
  await sql`
    insert into public.ledger_entries (event_position, line, account, user_id, amount_minor, currency,
                                       event_type, reference_id, recorded_at)
    select p, l, case l when 1 then 'platform:stripe_clearing' else 'platform:revenue' end, null,
           case l when 1 then 1000 else -1000 end, 'USD', 'Purchased', gen_random_uuid(),
           ${at}::text::timestamptz + (p - ${positions[0]!}::bigint) * interval '1 microsecond'
    from unnest(${positions}::bigint[]) p, generate_series(1, 2) l`;
}

Deno.test("an export is served by the read replica while the primary takes writes; a write becomes visible there within the measured lag", async () => {
  const started = !(await replicaAnswers());
  if (started) await dev("replica", "up");
  const primary = testSql(4);
  const previousReadUrl = Deno.env.get("READ_DATABASE_URL");
  Deno.env.set("READ_DATABASE_URL", REPLICA_URL);
  const base = 7_000_000_000_000_000 + Math.floor(Math.random() * 1e9) * 1000;
  const minute = Math.floor(Math.random() * 500_000);
  const from = new Date(Date.parse("2035-01-01T00:00:00Z") + minute * 60_000).toISOString();
  const to = new Date(Date.parse(from) + 60_000).toISOString();
  const busy = new Date(Date.parse(from) + 30 * 86_400_000).toISOString(); // the writes during the export
  const positions = (from: number, count: number) => Array.from({ length: count }, (_, i) => base + from + i);
  try {
    const read = readDb();
    const [session] = await read<{ recovery: boolean; name: string }[]>`
      select pg_is_in_recovery() as recovery, current_setting('application_name') as name`;
    assert.equal(session!.recovery, true, "readDb() reaches a standby");
    assert.equal(session!.name, READ_APPLICATION_NAME);

    // A standby that was stopped first replays the WAL its slot kept (a long test run writes hundreds of
    // MB): catching up is reported apart from the lag.
    const catchUpMs = await caughtUp(primary, read);
    await writeEvents(primary, positions(0, 500), from);
    const lagMs = await visibleOnReplica(read, base + 499, performance.now());

    let readQueries = 0;
    const guard = createUserGuard({
      sql: () => primary,
      redis,
      rateLimits: rateLimits({ enabled: false }),
      tokens: TEST_TOKENS,
      ip: { header: "x-forwarded-for", hop: "first" },
    });
    const app = createApp({
      functionName: "admin",
      routes: exportRoutes({
        sql: () => primary,
        readSql: () => (readQueries++, read),
        guard,
        exportPageRows: 50,
      }),
    });
    const [admin] = await primary<{ id: string }[]>`select test_support.kyc_user(true) as id`;
    const token = await signAccessToken(
      { userId: admin!.id, role: "admin", sessionId: crypto.randomUUID() },
      TEST_TOKENS,
      new Date(),
    );
    const exportCsv = async () => {
      const res = await app(
        new Request(`http://localhost/admin/exports/ledger.csv?from=${from}&to=${to}`, {
          headers: { authorization: `Bearer ${token}` },
        }),
      );
      assert.equal(res.status, 200);
      return (await res.text()).split("\r\n").slice(1, -1);
    };

    // The export streams page by page from the standby while the primary commits event after event.
    let writing = true, written = 0;
    const writer = (async () => {
      while (writing) {
        await writeEvents(primary, positions(10_000 + written, 1), busy);
        written++;
      }
    })();
    let lines: string[];
    try {
      lines = await exportCsv();
    } finally {
      writing = false;
      await writer;
    }
    const sessionsNamed = async (on: typeof read) =>
      (await on<{ count: number }[]>`
        select count(*)::int as count from pg_stat_activity where application_name = ${READ_APPLICATION_NAME}`)[
        0
      ]!
        .count;
    assert.ok(written > 0, "the primary took writes during the export");
    assert.equal(readQueries, 20, "each of the 20 pages of 50 lines was read through readDb");
    assert.ok(await sessionsNamed(read) >= 1, "the standby holds the read pool's session");
    assert.equal(await sessionsNamed(primary), 0, "and the primary none");
    assert.equal(lines.length, 1001, "1,000 lines and the trailer");
    assert.equal(lines.at(-1)!.split(",").slice(0, 2).join(","), "#end,1000");

    // A write on the primary, then: poll the standby until it is there; the next export has it.
    await writeEvents(primary, [base + 999_999], from);
    const markerLagMs = await visibleOnReplica(read, base + 999_999, performance.now());
    const after = await exportCsv();
    assert.ok(
      after.some((l) => l.startsWith(`${base + 999_999},1,`)),
      "the export from the replica holds the write",
    );
    assert.equal(after.at(-1)!.split(",").slice(0, 2).join(","), "#end,1002");
    const [stat] = await primary<{ replay_lag_ms: number | null; behind_bytes: number | null }[]>`
      select (extract(epoch from replay_lag) * 1000)::float8 as replay_lag_ms,
             pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 as behind_bytes
      from pg_stat_replication order by backend_start desc limit 1`;
    console.log(
      `read replica: caught up in ${catchUpMs} ms; a write became visible on the standby after ${lagMs} ms ` +
        `(500 events) and ${markerLagMs} ms ` +
        `(one event, after the export); pg_stat_replication replay_lag ${stat?.replay_lag_ms ?? "n/a"} ms, ` +
        `${
          stat?.behind_bytes ?? "n/a"
        } bytes behind; ${written} events committed on the primary during the export`,
    );
  } finally {
    await primary`delete from public.ledger_entries where event_position >= ${base} and event_position < ${
      base + 1_000_000
    }`;
    await primary.end();
    await readDb().end();
    if (previousReadUrl === undefined) Deno.env.delete("READ_DATABASE_URL");
    else Deno.env.set("READ_DATABASE_URL", previousReadUrl);
    if (started) await dev("replica", "down");
  }
});

/** Milliseconds from `committedAt` (just after the write's commit returned on the primary) until the
 * standby shows the ledger line of `position`, polling every 5 ms. */
async function visibleOnReplica(read: Sql, position: number, committedAt: number): Promise<number> {
  for (;;) {
    const [row] = await read<{ seen: boolean }[]>`
      select exists(select from public.ledger_entries where event_position = ${position}) as seen`;
    const elapsedMs = Math.round((performance.now() - committedAt) * 10) / 10;
    if (row!.seen) return elapsedMs;
    if (elapsedMs > VISIBLE_WITHIN_MS_MAX) {
      assert.fail(`the standby did not replay a write in ${elapsedMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Milliseconds until the standby has replayed the primary's WAL as of now, polling every 50 ms. */
async function caughtUp(primary: Sql, read: Sql): Promise<number> {
  const t0 = performance.now();
  const [{ lsn }] = await primary<[{ lsn: string }]>`select pg_current_wal_lsn()::text as lsn`;
  for (;;) {
    const [row] = await read<{ done: boolean }[]>`
      select pg_wal_lsn_diff(pg_last_wal_replay_lsn(), ${lsn}::pg_lsn) >= 0 as done`;
    const elapsedMs = Math.round(performance.now() - t0);
    if (row!.done) return elapsedMs;
    if (elapsedMs > CAUGHT_UP_WITHIN_MS_MAX) assert.fail(`the standby did not catch up in ${elapsedMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
