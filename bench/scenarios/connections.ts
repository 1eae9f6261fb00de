// connections: 1,000 concurrent keep-alive connections for 60 s (CONNECTIONS_SECONDS) through a gateway
// of our own (limits on, so high they never trip), each connection cycling over GET /health, GET
// /packages and GET /auth/me. What must hold: no socket error (connect, read, write, or wrk's 2 s
// timeout) and no non-2xx answer; a health check that says "down" while only busy is a 503 and fails it.
// Its req/s is printed beside a bare Deno.serve doing one Postgres select 1 per request under the same
// 1,000 connections in the same run; the ratio is for reading only (the target is the error counts).
// CONNECTIONS_STRETCH=10000 adds a second run at that many connections (the stretch figure).
import {
  BENCH_SECONDS,
  benchPort,
  type BenchResult,
  result,
  round,
  signupToken,
  startGateway,
  startServer,
  stop,
  wrk,
  type WrkResult,
} from "../lib.ts";

const PORT = benchPort(7);
const BARE_PORT = benchPort(8);
const CONNECTIONS = 1000;
const SECONDS = Number(Deno.env.get("CONNECTIONS_SECONDS") ?? 60);
const STRETCH_CONNECTIONS = Number(Deno.env.get("CONNECTIONS_STRETCH") ?? 0);
const HIGH_LIMITS = { RATE_LIMIT_API_PER_IP: "999999999/1m", RATE_LIMIT_API_PER_USER: "999999999/1h" };

/** wrk's Lua: the three routes in turn on every connection, all with the user's token. */
function rotatingScript(token: string): string {
  return [
    `local paths = {"/functions/v1/health", "/functions/v1/packages", "/functions/v1/auth/me"}`,
    `local n = 0`,
    `wrk.headers["Authorization"] = "Bearer ${token}"`,
    `request = function()`,
    `  n = n + 1`,
    `  return wrk.format("GET", paths[(n % 3) + 1])`,
    `end`,
  ].join("\n") + "\n";
}

async function openFilesLimit(): Promise<number> {
  const out = await new Deno.Command("sh", { args: ["-c", "ulimit -n"], stdout: "piped" }).output();
  return Number(new TextDecoder().decode(out.stdout).trim());
}

const describe = (connections: number, run: WrkResult) =>
  `${connections} connections: ${round(run.requestsPerSecond)} req/s, p50 ${round(run.p50Ms, 2)} ms, ` +
  `p99 ${round(run.p99Ms, 2)} ms, socket errors ${run.errors}, non-2xx ${run.non2xx}`;

/** bench/bare_server.ts (one Postgres select 1 per request) under the same number of connections. */
async function bareBaseline(): Promise<WrkResult> {
  const bare = await startServer(
    new URL("../bare_server.ts", import.meta.url).pathname,
    { ...Deno.env.toObject(), BARE_PORT: String(BARE_PORT), BARE_CHECKS: "db" },
    `http://127.0.0.1:${BARE_PORT}/`,
  );
  try {
    return await wrk(`http://127.0.0.1:${BARE_PORT}/`, { connections: CONNECTIONS, seconds: BENCH_SECONDS });
  } finally {
    await stop(bare);
  }
}

export async function run(): Promise<BenchResult> {
  const limit = await openFilesLimit();
  // wrk holds one descriptor per connection, and so does the gateway (each process has this limit).
  if (limit < CONNECTIONS + 100) {
    throw new Error(`ulimit -n is ${limit}; ${CONNECTIONS} connections need more`);
  }
  const baseline = await bareBaseline();
  const gateway = await startGateway(PORT, HIGH_LIMITS);
  const script = await Deno.makeTempFile({ suffix: ".lua" });
  try {
    await Deno.writeTextFile(script, rotatingScript(await signupToken(`http://127.0.0.1:${PORT}`)));
    const url = `http://127.0.0.1:${PORT}/`;
    const measured = await wrk(url, { script, connections: CONNECTIONS, seconds: SECONDS });
    let stretch = "";
    if (STRETCH_CONNECTIONS > 0) {
      if (limit < STRETCH_CONNECTIONS + 100) {
        stretch = `; stretch skipped: ulimit -n is ${limit}`;
      } else {
        const big = await wrk(url, { script, connections: STRETCH_CONNECTIONS, seconds: SECONDS });
        stretch = `; stretch ${describe(STRETCH_CONNECTIONS, big)}`;
      }
    }
    const out = {
      ...result({
        scenario: "connections",
        metric: "mixed_requests_per_second",
        value: round(measured.requestsPerSecond),
        unit: "req/s over health, packages, me",
        baseline: `bare Deno.serve, one Postgres select 1 per request, ${CONNECTIONS} connections`,
        baseline_value: round(baseline.requestsPerSecond),
        // The pass condition is the error counts below; the ratio is printed for reading.
        target: { ratio: 0, meaning: ">=" },
        extraChecks: measured.errors === 0 && measured.non2xx === 0,
        p50_ms: round(measured.p50Ms, 2),
        p99_ms: round(measured.p99Ms, 2),
        notes: `${describe(CONNECTIONS, measured)} for ${SECONDS} s (must be 0 and 0)${stretch}`,
      }),
      connections: CONNECTIONS,
      seconds: SECONDS,
      socket_errors: measured.errors,
      non_2xx: measured.non2xx,
    };
    return out;
  } finally {
    await Deno.remove(script);
    await stop(gateway);
  }
}
