// append: single-event appends/s over concurrent connections, against pgbench's tpcb-like TPS on the
// same cluster in the same run. Target: >= 1.5x (an append is one insert; tpcb is five statements) in
// every one of five rounds, not only in their median: each round's ratio is its appends (sealer running)
// over the pgbench round just before it, and all five are reported.
//
// Both sides are driven by pgbench with the same clients and threads, so the ratio compares the
// transactions, not two client programs. The typed Deno client's rate is measured too and printed
// in the notes (on 2 cores the client competes with Postgres for CPU).
//
// The hash chain's sealer follows the appends (event_store.run_sealer): the reported rate is with the
// sealer running, as in production; the unsealed tail left when pgbench stops shows whether sealing
// keeps up. Rounds without the sealer, to show its share, run only with BENCH_APPEND_UNSEALED=1 (they
// took 50 of the scenario's ≈190 s, and the harness has a 20-minute budget). pg_cron's sealer is paused for the run (the
// rounds start their own) and resumed afterwards.
import { createSql } from "../../supabase/functions/_shared/infra/db.ts";
import { appendToStream } from "../../supabase/functions/_shared/infra/event_store.ts";
import {
  BENCH_SECONDS,
  type BenchResult,
  closedLoop,
  DATABASE_URL,
  pgbenchTps,
  result,
  round,
} from "../lib.ts";

const CLIENTS = 16;
const ROUNDS = Number(Deno.env.get("BENCH_APPEND_ROUNDS") ?? 5);
const UNSEALED = Deno.env.get("BENCH_APPEND_UNSEALED") === "1";
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<BenchResult> {
  const runId = crypto.randomUUID();
  const script = await Deno.makeTempFile({ suffix: ".sql" });
  // Each client appends to its own stream, as a command appends to the stream it decides on.
  await Deno.writeTextFile(
    script,
    `select event_store.append_events('bench-append-${runId}-' || :client_id, 'any', '[{"type":"PackageRetired","data":{"packageId":"${runId}"}}]');\n`,
  );
  const appendRound = () =>
    pgbenchTps(CLIENTS, BENCH_SECONDS, { file: script, database: new URL(DATABASE_URL).pathname.slice(1) });
  const sql = createSql(DATABASE_URL, CLIENTS);
  // Alternating rounds, median of each: on a shared machine either side can drift within a run.
  const baselines: number[] = [];
  const appendRates: number[] = [];
  const unsealedRates: number[] = [];
  const tails: number[] = [];
  let client;
  await setCronSealer(sql, false);
  try {
    for (let i = 0; i < ROUNDS; i++) {
      baselines.push(await pgbenchTps(CLIENTS));
      if (UNSEALED) unsealedRates.push(await appendRound());
      await sealAll(sql);
      const sealer = sql.reserve().then(async (conn) => {
        try {
          await conn`call event_store.run_sealer(${BENCH_SECONDS + 2}, 1)`;
        } finally {
          conn.release();
        }
      });
      appendRates.push(await appendRound());
      const [tail] = await sql<{ n: number }[]>`
        select value::int as n from ops.chain_figures(now()) where metric = 'chain_unsealed_events'`;
      tails.push(tail!.n);
      await sealer;
    }
    const versions = new Array<number>(CLIENTS).fill(0);
    client = await closedLoop(CLIENTS, Math.min(BENCH_SECONDS, 5), async (worker) => {
      const stream = `bench-client-${runId}-${worker}`;
      await appendToStream(sql, stream, versions[worker] === 0 ? "no_stream" : versions[worker]!, [
        { type: "PackageRetired", data: { packageId: runId } },
      ]);
      versions[worker]! += 1;
    });
  } finally {
    await Deno.remove(script);
    await sealAll(sql);
    await setCronSealer(sql, true);
    await sql.end();
  }
  const baseline = median(baselines);
  const appends = median(appendRates);
  const roundRatios = appendRates.map((a, i) => a / baselines[i]!);
  const everyRound = roundRatios.every((r) => r >= 1.5);
  return result({
    scenario: "append",
    metric: "appends_per_second",
    value: round(appends),
    unit: "appends/s",
    baseline: `pgbench tpcb-like TPS (${CLIENTS} clients, same cluster)`,
    baseline_value: round(baseline),
    target: { ratio: 1.5, meaning: ">=" },
    extraChecks: everyRound,
    p50_ms: round(client.p50Ms, 2),
    p99_ms: round(client.p99Ms, 2),
    notes: `ratio per round ${
      roundRatios.map((r) => round(r, 2)).join("/")
    } (every round >= 1.5: ${everyRound}); ` +
      `medians of ${ROUNDS} alternating rounds (pgbench ${
        baselines.map((b) => round(b)).join("/")
      }, ` +
      `appends with the sealer running ${appendRates.map((a) => round(a)).join("/")}, ` +
      `unsealed tail when pgbench stopped ${tails.join("/")} events; ` +
      (UNSEALED
        ? `appends without sealing ${unsealedRates.map((a) => round(a)).join("/")}, median ${
          round(median(unsealedRates))
        }); `
        : "rounds without sealing not run (BENCH_APPEND_UNSEALED=1)); ") +
      `typed Deno client (exact expected versions): ${round(client.opsPerSecond)} appends/s, ` +
      `${round(client.opsPerSecond / baseline, 3)}x pgbench; p50/p99 from that client`,
  });
}

type Sql = ReturnType<typeof createSql>;

/** Pause or resume pg_cron's sealer; pausing waits for a run in progress to end (it would seal during a round). */
async function setCronSealer(sql: Sql, active: boolean): Promise<void> {
  const jobs = await sql`select jobid from cron.job where jobname = 'seal-event-chain'`.catch(() => []);
  for (const { jobid } of jobs) await sql`select cron.alter_job(${jobid}, active => ${active})`;
  if (!active) {
    for (let i = 0; i < 120; i++) {
      const [running] = await sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity
        where query like 'call event_store.run_sealer%' and state = 'active' and pid <> pg_backend_pid()`;
      if (running!.n === 0) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function sealAll(sql: Sql): Promise<void> {
  while ((await sql<{ n: number }[]>`select event_store.seal_chain(10000) as n`)[0]!.n > 0) { /* backlog */ }
}
