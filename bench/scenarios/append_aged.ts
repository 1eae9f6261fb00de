// append-aged: appends/s and read_all catch-up events/s with 20,000,000 events stored, against the same
// with 1,000,000 stored, in one scratch database in the same run (the young figures first, then the store
// is grown to 20M and the same is measured again). Target: >= 0.85x for both.
//
// Appends are driven by pgbench with the append scenario's script shape (16 clients, one stream each, one
// event per append, projection trigger on). The catch-up is a consumer reading the newest CATCH_UP
// events through event_store.read_all, 10,000 a page, from the checkpoint before them (as a projection
// catching up after downtime). Each side's appends are also divided by a pgbench tpcb-like round taken
// just before, so the notes show the ratio with the machine's drift between the two phases taken out.
//
// What is synthetic: the stored events are written set-based (INSERT ... SELECT, projection triggers off
// through session_replication_role, indexes rebuilt after the load), one transaction per million events, so
// they share a transaction id per million (the (transaction_id, position) index has the same shape, fewer
// distinct keys); 10 events per stream, with the streams rows to match; every event has the same data
// (one package id); every row meets the table's constraints. They are not
// hash-chained: sealing 20M events one by one would take this benchmark's budget, and no sealer runs in a
// scratch database (pg_cron runs in the main one); the append scenario measures the sealer's share.
import { createSql, type Sql } from "../../supabase/functions/_shared/infra/db.ts";
import { BENCH_SECONDS, type BenchResult, pgbenchTps, result, round, scratchDatabase } from "../lib.ts";

const YOUNG = Number(Deno.env.get("BENCH_APPEND_AGED_YOUNG") ?? 1_000_000);
const AGED = Number(Deno.env.get("BENCH_APPEND_AGED_EVENTS") ?? 20_000_000);
const BATCH = 1_000_000;
const EVENTS_PER_STREAM = 10;
const CLIENTS = 16;
const ROUND_SECONDS = Math.min(BENCH_SECONDS, 5);
const ROUNDS = 2;
const CATCH_UP = Number(Deno.env.get("BENCH_APPEND_AGED_CATCH_UP") ?? 200_000);
const PAGE = 10_000;

/** Stores events number from+1..to and their streams, set-based, a million per transaction. The events
 * table's indexes and unique constraints are dropped for the load and rebuilt after it from their own
 * definitions (a sorted build is ≈5x faster than 20M index insertions here), then checked to be the same. */
async function store(sql: Sql, from: number, to: number): Promise<void> {
  const indexes = await sql<{ name: string; definition: string; constraint: string | null }[]>`
    select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as definition,
           pg_get_constraintdef(c.oid) as constraint
    from pg_index i left join pg_constraint c on c.conindid = i.indexrelid and c.conrelid = i.indrelid
    where i.indrelid = 'event_store.events'::regclass order by 1`;
  for (const index of indexes) {
    await (index.constraint
      ? sql`alter table event_store.events drop constraint ${sql(index.name.split(".")[1]!)}`
      : sql`drop index ${sql(index.name)}`);
  }
  for (let start = from; start < to; start += BATCH) {
    const end = Math.min(start + BATCH, to);
    await sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`
        insert into event_store.events (stream_id, stream_version, type, data, recorded_at)
        select 'aged-' || ((i - 1) / ${EVENTS_PER_STREAM} + 100000000), (i - 1) % ${EVENTS_PER_STREAM} + 1,
               'PackageRetired', '{"packageId": "00000000-0000-4000-8000-000000000000"}'::jsonb,
               timestamptz '2026-01-01' + i * interval '1 second'
        from generate_series(${start + 1}::bigint, ${end}::bigint) i`;
      await tx`
        insert into event_store.streams (stream_id, version)
        select 'aged-' || (s + 100000000), ${EVENTS_PER_STREAM}
        from generate_series(${start / EVENTS_PER_STREAM}::bigint, ${end / EVENTS_PER_STREAM - 1}::bigint) s`;
    });
  }
  for (const index of indexes) {
    await (index.constraint
      ? sql.unsafe(
        `alter table event_store.events add constraint ${index.name.split(".")[1]} ${index.constraint}`,
      )
      : sql.unsafe(index.definition));
  }
  const rebuilt = await sql<{ definition: string }[]>`
    select pg_get_indexdef(indexrelid) as definition from pg_index
    where indrelid = 'event_store.events'::regclass order by indexrelid::regclass::text`;
  if (JSON.stringify(rebuilt.map((r) => r.definition)) !== JSON.stringify(indexes.map((i) => i.definition))) {
    throw new Error("the events table's indexes differ after the bulk load");
  }
  await sql`vacuum analyze event_store.events, event_store.streams`.simple();
}

type Phase = { appends: number[]; tpcb: number[]; catchUpPerSecond: number; stored: number };

async function measure(sql: Sql, database: string, script: string): Promise<Phase> {
  const [counted] = await sql<{ stored: number }[]>`select count(*)::int as stored from event_store.events`;
  const stored = counted!.stored;
  const appends: number[] = [];
  const tpcb: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    tpcb.push(await pgbenchTps(CLIENTS, ROUND_SECONDS));
    appends.push(await pgbenchTps(CLIENTS, ROUND_SECONDS, { file: script, database }));
  }
  // The checkpoint CATCH_UP events before the newest read_all hands out (those of transactions older than
  // every running one, anywhere in the cluster), in reader order; read twice, the faster counts (the first
  // read after the build or the appends also warms the caches).
  const [from] = await sql<{ tx: string; pos: string }[]>`
    select transaction_id::text as tx, position::text as pos from event_store.events
    where transaction_id < pg_snapshot_xmin(pg_current_snapshot())
    order by transaction_id desc, position desc offset ${CATCH_UP} limit 1`;
  const catchUpPerSecond = Math.max(
    await catchUp(sql, from!.tx, from!.pos),
    await catchUp(sql, from!.tx, from!.pos),
  );
  return { appends, tpcb, catchUpPerSecond, stored };
}

/** Reads CATCH_UP events through read_all from a checkpoint, a page at a time: events/s. */
async function catchUp(sql: Sql, afterTx: string, afterPos: string): Promise<number> {
  let tx = afterTx;
  let pos = afterPos;
  let read = 0;
  const started = performance.now();
  while (read < CATCH_UP) {
    const page = await sql<{ transaction_id: string; position: string }[]>`
      select * from event_store.read_all(${tx}::xid8, ${pos}::bigint, ${PAGE})`;
    if (page.length === 0) break;
    read += page.length;
    tx = page.at(-1)!.transaction_id;
    pos = page.at(-1)!.position;
  }
  if (read < CATCH_UP) throw new Error(`read_all returned ${read} events, expected ${CATCH_UP}`);
  return read / ((performance.now() - started) / 1000);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export async function run(): Promise<BenchResult> {
  const scratch = await scratchDatabase();
  const sql = createSql(scratch.url, 2);
  const script = await Deno.makeTempFile({ suffix: ".sql" });
  try {
    await Deno.writeTextFile(
      script,
      `select event_store.append_events('aged-append-' || :client_id, 'any', '[{"type":"PackageRetired","data":{"packageId":"00000000-0000-4000-8000-000000000000"}}]');\n`,
    );
    const database = new URL(scratch.url).pathname.slice(1);
    const b0 = performance.now();
    await store(sql, 0, YOUNG);
    const youngBuildSeconds = (performance.now() - b0) / 1000;
    const young = await measure(sql, database, script);
    const b1 = performance.now();
    await store(sql, YOUNG, AGED);
    const agedBuildSeconds = (performance.now() - b1) / 1000;
    const aged = await measure(sql, database, script);

    const appendRatio = mean(aged.appends) / mean(young.appends);
    const readRatio = aged.catchUpPerSecond / young.catchUpPerSecond;
    const normalised = (mean(aged.appends) / mean(aged.tpcb)) / (mean(young.appends) / mean(young.tpcb));
    const rounds = (p: Phase) => p.appends.map((a) => round(a)).join("/");
    return result({
      scenario: "append-aged",
      metric: "appends_per_second_aged",
      value: round(mean(aged.appends)),
      unit: "appends/s",
      baseline: `the same with ${young.stored.toLocaleString("en")} events stored`,
      baseline_value: round(mean(young.appends)),
      target: { ratio: 0.85, meaning: ">=" },
      extraChecks: readRatio >= 0.85,
      notes: `${aged.stored.toLocaleString("en")} events stored: appends ${rounds(aged)}/s ` +
        `(pgbench tpcb-like ${aged.tpcb.map((t) => round(t)).join("/")}), read_all catch-up of the newest ` +
        `${CATCH_UP.toLocaleString("en")} ${round(aged.catchUpPerSecond)} events/s; ` +
        `${young.stored.toLocaleString("en")} stored: appends ${rounds(young)}/s (pgbench tpcb-like ${
          young.tpcb.map((t) => round(t)).join("/")
        }), catch-up ${round(young.catchUpPerSecond)} events/s. ` +
        `Ratios: appends ${round(appendRatio, 3)}, catch-up ${round(readRatio, 3)} (both must be >= 0.85), ` +
        `appends over the tpcb round before them ${round(normalised, 3)}. ` +
        `Stored set-based in ${round(youngBuildSeconds)} s (young) and ${round(agedBuildSeconds)} s (grown).`,
    });
  } finally {
    await Deno.remove(script);
    await sql.end();
    await scratch.drop();
  }
}
