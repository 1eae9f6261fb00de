import { createSql } from "../supabase/functions/_shared/infra/db.ts";
import { scratchDatabase as migratedDatabase } from "../tests/scratch_db.ts";
import { fetchFrom, loopbackIp } from "../tests/support.ts";

// The benchmark harness: every figure is printed beside a baseline measured in the same run on the same
// machine (these machines are shared and noisy, so only ratios mean anything).

/** A target on the ratio against the baseline, or (where the issue names an absolute figure, such as a
 * latency) on the value itself. */
export type Target =
  | { ratio: number; meaning: ">=" | "<=" }
  | { value: number; meaning: "<" | ">=" };

export type BenchResult = {
  scenario: string;
  metric: string;
  value: number;
  unit: string;
  baseline: string;
  baseline_value: number;
  ratio: number;
  target_ratio: string;
  passed: boolean;
  p99_ms?: number;
  p50_ms?: number;
  notes?: string;
  /** Why the scenario could not finish (it threw); the run goes on with the next scenario. */
  error?: string;
  /** Wall time of the scenario, set-up included, and the 1-minute load average at its end. */
  seconds?: number;
  load_average_1m?: number;
  date: string;
};

export const DATABASE_URL = Deno.env.get("DATABASE_URL") ?? "postgres://postgres@127.0.0.1:54322/postgres";
export const API_URL = Deno.env.get("API_URL") ?? "http://127.0.0.1:54321";
export const BENCH_SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 10);

export function result(
  fields: Omit<BenchResult, "ratio" | "target_ratio" | "passed" | "date"> & {
    target: Target;
    extraChecks?: boolean;
  },
): BenchResult {
  const { target, extraChecks = true, ...rest } = fields;
  // Verdicts compare the unrounded figures (1.4996 must not pass >= 1.5); only the report is rounded.
  const exactRatio = fields.value / fields.baseline_value;
  const withinTarget = "ratio" in target
    ? (target.meaning === ">=" ? exactRatio >= target.ratio : exactRatio <= target.ratio)
    : (target.meaning === "<" ? fields.value < target.value : fields.value >= target.value);
  return {
    ...rest,
    ratio: Number(exactRatio.toPrecision(3)),
    target_ratio: "ratio" in target
      ? `${target.meaning} ${target.ratio}`
      : `value ${target.meaning} ${target.value} ${fields.unit}`,
    passed: withinTarget && extraChecks,
    date: new Date().toISOString(),
  };
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const output = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`${cmd} ${args.join(" ")} failed:\n${text}`);
  return text;
}

function dbParts(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: u.port || "5432",
    user: decodeURIComponent(u.username || "postgres"),
    password: decodeURIComponent(u.password),
  };
}

/** pgbench's built-in tpcb-like TPS on the same cluster (its own database, initialised once), or the
 * TPS of a custom script (`file`) run against `database` with the same driver and settings. */
export async function pgbenchTps(
  clients: number,
  seconds = BENCH_SECONDS,
  custom?: { file: string; database: string },
): Promise<number> {
  const { host, port, user, password } = dbParts(DATABASE_URL);
  const env = password ? { PGPASSWORD: password } : {};
  const common = ["-h", host, "-p", port, "-U", user];
  const exists = await run("psql", [
    ...common,
    "-d",
    "postgres",
    "-tAc",
    "select 1 from pg_database where datname = 'bench_pgbench'",
  ], env);
  if (!exists.trim()) {
    await run("psql", [...common, "-d", "postgres", "-c", "create database bench_pgbench"], env);
    await run("pgbench", [...common, "-i", "-q", "-s", "10", "bench_pgbench"], env);
  }
  const threads = String(Math.min(clients, 2));
  const workload = custom ? ["-f", custom.file] : ["-b", "tpcb-like"];
  const database = custom?.database ?? "bench_pgbench";
  const out = await run("pgbench", [
    ...common,
    ...workload,
    "-c",
    String(clients),
    "-j",
    threads,
    "-T",
    String(seconds),
    "-n",
    database,
  ], env);
  const match = /tps = ([0-9.]+)/.exec(out);
  if (!match) throw new Error(`no TPS in pgbench output:\n${out}`);
  return Number(match[1]);
}

export type WrkResult = {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
};

function toMs(text: string): number {
  const m = /^([0-9.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : n * 60_000;
}

/** wrk against localhost: req/s and latency percentiles. A Lua script adds headers or a body when given. */
export async function wrk(
  url: string,
  options: { connections?: number; seconds?: number; threads?: number; script?: string; rate?: number } = {},
): Promise<WrkResult> {
  if (!/^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(url)) {
    throw new Error("load tests target localhost only");
  }
  const args = [
    "-t",
    String(options.threads ?? 2),
    "-c",
    String(options.connections ?? 100),
    "-d",
    `${options.seconds ?? BENCH_SECONDS}s`,
    "--latency",
  ];
  if (options.script) args.push("-s", options.script);
  args.push(url);
  const out = await run("wrk", args);
  const rps = Number(/Requests\/sec:\s+([0-9.]+)/.exec(out)?.[1]);
  const p50 = toMs(/\s50%\s+(\S+)/.exec(out)?.[1] ?? "");
  const p99 = toMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? "");
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errorsLine = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = errorsLine ? errorsLine.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0;
  return { requestsPerSecond: rps, p50Ms: p50, p99Ms: p99, non2xx, errors };
}

/** Runs `work` from `concurrency` loops for `seconds`; returns ops/s and latency percentiles. */
export async function closedLoop(
  concurrency: number,
  seconds: number,
  work: (worker: number, i: number) => Promise<void>,
): Promise<{ opsPerSecond: number; p50Ms: number; p99Ms: number; ops: number }> {
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
    for (let i = 0; performance.now() < deadline; i++) {
      const t0 = performance.now();
      await work(worker, i);
      latencies.push(performance.now() - t0);
    }
  }));
  const elapsedSeconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return {
    opsPerSecond: latencies.length / elapsedSeconds,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    ops: latencies.length,
  };
}

/** Starts a Deno program in the background and waits until the URL answers. */
export async function startServer(
  script: string,
  env: Record<string, string>,
  readyUrl: string,
): Promise<Deno.ChildProcess> {
  const deno = Deno.execPath();
  const child = new Deno.Command(deno, {
    args: ["run", "-A", script],
    env,
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(readyUrl);
      await res.body?.cancel();
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill();
  throw new Error(`${script} did not answer on ${readyUrl}`);
}

/** A port for a server the benchmark starts itself. Fixed offsets from BENCH_PORT_BASE (default 31000)
 * keep them below the kernel's ephemeral range (32768-60999), where an outgoing connection could
 * already hold one; a second stack on the same machine sets its own base. */
export function benchPort(offset: number): number {
  return Number(Deno.env.get("BENCH_PORT_BASE") ?? 31000) + offset;
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** A gateway of our own for one scenario (its own port and configuration), stopped by the caller. */
export function startGateway(port: number, env: Record<string, string>): Promise<Deno.ChildProcess> {
  return startServer(
    new URL("../devstack/gateway.ts", import.meta.url).pathname,
    { ...Deno.env.toObject(), LOG_LEVEL: "silent", API_PORT: String(port), ...env },
    `http://127.0.0.1:${port}/functions/v1/health`,
  );
}

export async function stop(child: Deno.ChildProcess): Promise<void> {
  child.kill();
  await child.status;
}

/** Signs up a fresh user through a gateway and returns the access token. It connects from a loopback
 * address of its own: the gateway trusts only the address it sees, so that is the signup limit's key. */
export async function signupToken(apiUrl: string): Promise<string> {
  const res = await fetchFrom(loopbackIp(), `${apiUrl}/functions/v1/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      email: `bench-${crypto.randomUUID()}@example.com`,
      password: "correct horse battery",
    }),
  });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${await res.text()}`);
  return (await res.json()).accessToken;
}

/** The baseline of the HTTP scenarios: wrk against bench/bare_server.ts doing only `checks`
 * ("db": a Postgres select 1; "db,redis": plus a Redis PING) per request, with the same clients. */
export async function bareServerBaseline(port: number, checks: "db" | "db,redis"): Promise<WrkResult> {
  const bare = await startServer(
    new URL("./bare_server.ts", import.meta.url).pathname,
    { ...Deno.env.toObject(), BARE_PORT: String(port), BARE_CHECKS: checks },
    `http://127.0.0.1:${port}/`,
  );
  try {
    return await wrk(`http://127.0.0.1:${port}/`);
  } finally {
    await stop(bare);
  }
}

/** The migrated database every scratch database of this run is cloned from (built on first use). */
let template: Promise<{ url: string; drop: () => Promise<void> }> | undefined;

/** A scratch database with every migration, for one scenario to fill and drop. Migrating one from scratch
 * takes ≈30 s on this machine (one psql per migration file); so the first call migrates a template and
 * every call clones it (CREATE DATABASE … TEMPLATE, about a second). `dropScratchTemplate` ends the run. */
export async function scratchDatabase(): Promise<
  { url: string; template: string; drop: () => Promise<void> }
> {
  template ??= migratedDatabase();
  const source = new URL((await template).url).pathname.slice(1);
  const name = `accrue_scratch_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = createSql(DATABASE_URL, 1);
  try {
    await admin.unsafe(`create database ${name} template ${source}`);
  } finally {
    await admin.end();
  }
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    template: source,
    drop: async () => {
      const sql = createSql(DATABASE_URL, 1);
      try {
        await sql.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await sql.end();
      }
    },
  };
}

export async function dropScratchTemplate(): Promise<void> {
  if (template) await (await template).drop();
  template = undefined;
}

/** A scratch database with every migration, and a gateway of our own over it. */
export async function scratchStack(port: number, env: Record<string, string> = {}) {
  const scratch = await scratchDatabase();
  const sql = createSql(scratch.url, 2);
  const gateway = await startGateway(port, { DATABASE_URL: scratch.url, ...env });
  return {
    sql,
    close: async () => {
      await stop(gateway);
      await sql.end();
      await scratch.drop();
    },
  };
}
