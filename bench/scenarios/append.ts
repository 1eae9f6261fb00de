// append: single-event appends/s over concurrent connections, against pgbench's tpcb-like TPS on the
// same cluster in the same run. Target: >= 1.5x (an append is one insert; tpcb is five statements).
//
// Both sides are driven by pgbench with the same clients and threads, so the ratio compares the
// transactions, not two client programs. The typed Deno client's rate is measured too and printed
// in the notes (on 2 cores the client competes with Postgres for CPU).
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
const ROUNDS = 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<BenchResult> {
  const runId = crypto.randomUUID();
  const script = await Deno.makeTempFile({ suffix: ".sql" });
  // Each client appends to its own stream, as a command appends to the stream it decides on.
  await Deno.writeTextFile(
    script,
    `select event_store.append_events('bench-append-${runId}-' || :client_id, 'any', '[{"type":"PackageRetired","data":{"packageId":"${runId}"}}]');\n`,
  );
  // Alternating rounds, median of each: on a shared machine either side can drift within a run.
  const baselines: number[] = [];
  const appendRates: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    baselines.push(await pgbenchTps(CLIENTS));
    appendRates.push(
      await pgbenchTps(CLIENTS, BENCH_SECONDS, {
        file: script,
        database: new URL(DATABASE_URL).pathname.slice(1),
      }),
    );
  }
  await Deno.remove(script);
  const baseline = median(baselines);
  const appends = median(appendRates);

  const sql = createSql(DATABASE_URL, CLIENTS);
  let client;
  try {
    const versions = new Array<number>(CLIENTS).fill(0);
    client = await closedLoop(CLIENTS, Math.min(BENCH_SECONDS, 5), async (worker) => {
      const stream = `bench-client-${runId}-${worker}`;
      await appendToStream(sql, stream, versions[worker] === 0 ? "no_stream" : versions[worker]!, [
        { type: "PackageRetired", data: { packageId: runId } },
      ]);
      versions[worker]! += 1;
    });
  } finally {
    await sql.end();
  }
  return result({
    scenario: "append",
    metric: "appends_per_second",
    value: round(appends),
    unit: "appends/s",
    baseline: `pgbench tpcb-like TPS (${CLIENTS} clients, same cluster)`,
    baseline_value: round(baseline),
    target: { ratio: 1.5, meaning: ">=" },
    p50_ms: round(client.p50Ms, 2),
    p99_ms: round(client.p99Ms, 2),
    notes: `medians of ${ROUNDS} alternating rounds (pgbench ${baselines.map((b) => round(b)).join("/")}, ` +
      `appends ${appendRates.map((a) => round(a)).join("/")}); ` +
      `typed Deno client (exact expected versions): ${round(client.opsPerSecond)} appends/s, ` +
      `${round(client.opsPerSecond / baseline, 3)}x pgbench; p50/p99 from that client`,
  });
}
