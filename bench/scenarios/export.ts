// export: GET /admin/exports/ledger.csv over a 1,000,000-row window, through a gateway of our own on a
// scratch database. Measured: rows/s as the client reads them, and the gateway process's peak resident set
// (VmHWM in /proc/<pid>/status) after the export, against its peak after a small warm-up export. Targets
// (issue 11): at least 100,000 rows/s and a peak under 150 MB. The baseline is Postgres itself writing the
// same rows as CSV (psql's \copy of the export's query to /dev/null): the ratio says what the HTTP
// function costs on top of the database's own fastest path. The same export is then run against the admin
// function alone in its own process (bench/function_alone.ts), whose rate and peak RSS the notes report too.
//
// Setup writes ledger lines straight into the scratch database: 500,000 two-line events summing to zero.
import { signAccessToken } from "../../supabase/functions/_shared/auth/jwt.ts";
import { tokenConfigFromEnv } from "../../supabase/functions/_shared/auth/config.ts";
import { createSql } from "../../supabase/functions/_shared/infra/db.ts";
import {
  benchPort,
  type BenchResult,
  result,
  round,
  scratchDatabase,
  startGateway,
  startServer,
  stop,
} from "../lib.ts";

const ROWS = Number(Deno.env.get("BENCH_EXPORT_ROWS") ?? 1_000_000);
const MIB = 1024 * 1024;
const FROM = "2026-06-01T00:00:00Z";

function peakRssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** Reads the body as it arrives, keeping only counts and the last line (the trailer row). */
async function drain(res: Response): Promise<{ lines: number; last: string; bytes: number }> {
  if (res.status !== 200) throw new Error(`export answered ${res.status}: ${await res.text()}`);
  let lines = 0, bytes = 0, tail = "", last = "";
  const decoder = new TextDecoder();
  for await (const chunk of res.body!) {
    bytes += chunk.byteLength;
    const parts = (tail + decoder.decode(chunk, { stream: true })).split("\r\n");
    tail = parts.pop()!;
    lines += parts.length;
    if (parts.length > 0) last = parts.at(-1)!;
  }
  return { lines, last, bytes };
}

export async function run(): Promise<BenchResult> {
  const scratch = await scratchDatabase();
  const sql = createSql(scratch.url, 2);
  const port = benchPort(8);
  // BENCH_EXPORT_V8_FLAGS (say --max-old-space-size=64) caps the gateway's heap: whether the export still
  // completes under the cap tells retained memory from garbage V8 had no reason to collect yet.
  const v8Flags = Deno.env.get("BENCH_EXPORT_V8_FLAGS");
  const gateway = await startGateway(port, {
    DATABASE_URL: scratch.url,
    RATE_LIMIT_ENABLED: "false",
    ...(v8Flags ? { DENO_V8_FLAGS: v8Flags } : {}),
  });
  try {
    const t0 = performance.now();
    await sql`
      insert into public.ledger_entries (event_position, line, account, user_id, amount_minor, currency,
                                         event_type, reference_id, recorded_at)
      select e, l, case l when 1 then 'platform:stripe_clearing' else 'platform:revenue' end, null,
             case l when 1 then 1000 + e % 997 else -(1000 + e % 997) end, 'USD', 'Purchased',
             md5('export-' || e)::uuid, ${FROM}::timestamptz + e * interval '10 milliseconds'
      from generate_series(1, ${ROWS / 2}) e, generate_series(1, 2) l`;
    await sql`vacuum analyze public.ledger_entries`.simple();
    const [admin] = await sql<{ id: string }[]>`select test_support.kyc_user(true) as id`;
    const setupSeconds = (performance.now() - t0) / 1000;
    const token = await signAccessToken(
      { userId: admin!.id, role: "admin", sessionId: crypto.randomUUID() },
      tokenConfigFromEnv(),
      new Date(),
    );
    const to = new Date(Date.parse(FROM) + (ROWS / 2 + 1) * 10).toISOString();
    const url = (until: string) =>
      `http://127.0.0.1:${port}/functions/v1/admin/exports/ledger.csv?from=${FROM}&to=${until}`;
    const get = (until: string) => fetch(url(until), { headers: { authorization: `Bearer ${token}` } });

    const warmUp = await drain(await get("2026-06-01T00:01:00Z")); // the first minute: 11,998 rows
    const before = peakRssBytes(gateway.pid);
    const e0 = performance.now();
    const full = await drain(await get(to));
    const seconds = (performance.now() - e0) / 1000;
    const after = peakRssBytes(gateway.pid);
    const rows = full.lines - 2; // the header and the trailer
    const rowsPerSecond = rows / seconds;

    // The admin function alone in its own process, as Supabase runs each function in a worker of its own
    // (its documented per-function memory limit, not the gateway's, is what a deployment meets).
    const alonePort = benchPort(9);
    const alone = await startServer(
      new URL("../function_alone.ts", import.meta.url).pathname,
      {
        ...Deno.env.toObject(),
        LOG_LEVEL: "silent",
        DATABASE_URL: scratch.url,
        RATE_LIMIT_ENABLED: "false",
        FUNCTION_NAME: "admin",
        API_PORT: String(alonePort),
        ...(v8Flags ? { DENO_V8_FLAGS: v8Flags } : {}),
      },
      `http://127.0.0.1:${alonePort}/functions/v1/admin/exports/ledger.csv`,
    );
    let aloneFigures: { before: number; after: number; rowsPerSecond: number };
    try {
      const aloneUrl = (until: string) =>
        `http://127.0.0.1:${alonePort}/functions/v1/admin/exports/ledger.csv?from=${FROM}&to=${until}`;
      const getAlone = (until: string) =>
        fetch(aloneUrl(until), { headers: { authorization: `Bearer ${token}` } });
      await drain(await getAlone("2026-06-01T00:01:00Z"));
      const aloneBefore = peakRssBytes(alone.pid);
      const a0 = performance.now();
      const aloneFull = await drain(await getAlone(to));
      aloneFigures = {
        before: aloneBefore,
        after: peakRssBytes(alone.pid),
        rowsPerSecond: (aloneFull.lines - 2) / ((performance.now() - a0) / 1000),
      };
      if (!aloneFull.last.startsWith(`#end,${ROWS},`)) throw new Error(`alone: trailer ${aloneFull.last}`);
    } finally {
      await stop(alone);
    }

    // Baseline: the same rows as CSV straight out of Postgres.
    const query = `select event_position, line, money.rfc3339(recorded_at), event_type, account, user_id,
      reference_id, amount_minor, currency, balance_before_minor, balance_after_minor
      from public.ledger_entries where recorded_at >= '${FROM}' and recorded_at < '${to}'
      order by recorded_at, event_position, line`.replaceAll(/\s+/g, " ");
    const c0 = performance.now();
    const copy = await new Deno.Command("psql", {
      args: ["-X", "-q", scratch.url, "-c", `\\copy (${query}) to '/dev/null' with (format csv, header)`],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!copy.success) throw new Error(new TextDecoder().decode(copy.stderr));
    const copyRowsPerSecond = ROWS / ((performance.now() - c0) / 1000);

    const complete = full.last.startsWith(`#end,${ROWS},`);
    return result({
      scenario: "export",
      metric: "ledger_csv_rows_per_second",
      value: Math.round(rowsPerSecond),
      unit: "rows/s",
      baseline: `psql \\copy of the same ${ROWS} rows as CSV`,
      baseline_value: Math.round(copyRowsPerSecond),
      target: { ratio: 0.25, meaning: ">=" },
      extraChecks: complete && rows === ROWS && rowsPerSecond >= 100_000 && after < 150 * 1000 * 1000,
      notes: `absolute targets >= 100,000 rows/s and peak RSS < 150 MB; gateway peak RSS ` +
        `${round(before / MIB)} MiB after a ${warmUp.lines - 2}-row warm-up export, ${
          round(after / MIB)
        } MiB after the ${rows}-row export (${round(full.bytes / MIB)} MiB of CSV in ` +
        `${round(seconds, 2)} s); trailer "${full.last}"; the admin function alone in its own process: ` +
        `${Math.round(aloneFigures.rowsPerSecond)} rows/s, peak RSS ${
          round(aloneFigures.before / MIB)
        } MiB ` +
        `after the warm-up, ${round(aloneFigures.after / MIB)} MiB after the export; setup ${
          round(setupSeconds)
        } s` +
        (v8Flags ? `; gateway V8 flags ${v8Flags}` : ""),
    });
  } finally {
    await stop(gateway);
    await sql.end();
    await scratch.drop();
  }
}
