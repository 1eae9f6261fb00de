// me: authenticated GET /functions/v1/auth/me req/s under wrk (100 connections) through a gateway —
// JWT verify + per-IP and per-user rate-limit checks + one indexed read — against a bare Deno.serve
// doing one Postgres select 1 per request, in the same run. Target: >= 0.5x, p99 under 25 ms.
// The gateway runs with limits so high they never trip: every request pays for both checks.
import {
  bareServerBaseline,
  BENCH_SECONDS,
  benchPort,
  type BenchResult,
  result,
  round,
  signupToken,
  startGateway,
  stop,
  wrk,
} from "../lib.ts";

const PORT = benchPort(1);
const BARE_PORT = benchPort(2);
const HIGH_LIMITS = { RATE_LIMIT_API_PER_IP: "999999999/1m", RATE_LIMIT_API_PER_USER: "999999999/1h" };

type EndpointStats = { requests: number; commands: number };

/** The local Upstash endpoint's counters (GET /_local/stats); null against real Upstash, which has none. */
async function endpointStats(): Promise<EndpointStats | null> {
  const url = Deno.env.get("UPSTASH_REDIS_REST_URL");
  if (!url) return null;
  const res = await fetch(`${url}/_local/stats`).catch(() => null);
  if (!res?.ok) {
    await res?.body?.cancel();
    return null;
  }
  return await res.json() as EndpointStats;
}

export async function run(): Promise<BenchResult> {
  const baseline = await bareServerBaseline(BARE_PORT, "db");
  const gateway = await startGateway(PORT, HIGH_LIMITS);
  try {
    const token = await signupToken(`http://127.0.0.1:${PORT}`);
    const script = await Deno.makeTempFile({ suffix: ".lua" });
    await Deno.writeTextFile(script, `wrk.headers["Authorization"] = "Bearer ${token}"\n`);
    const before = await endpointStats();
    const measured = await wrk(`http://127.0.0.1:${PORT}/functions/v1/auth/me`, { script });
    const after = await endpointStats();
    await Deno.remove(script);
    // Upstash requests and commands per API request: the limits' two windows are two commands, and
    // concurrent requests' pipelines are merged into one Upstash request (infra/pipeline_batcher.ts).
    const served = measured.requestsPerSecond * BENCH_SECONDS;
    const perRequest = (pick: (s: EndpointStats) => number) =>
      before && after && served > 0 ? round((pick(after) - pick(before)) / served, 3) : null;
    const out = {
      ...result({
        scenario: "me",
        metric: "me_requests_per_second",
        value: round(measured.requestsPerSecond),
        unit: "req/s",
        baseline: "bare Deno.serve with one Postgres select 1 per request",
        baseline_value: round(baseline.requestsPerSecond),
        target: { ratio: 0.5, meaning: ">=" },
        // Socket errors include wrk's 2 s timeouts: a request that never answered is a failure too.
        extraChecks: measured.p99Ms < 25 && measured.non2xx === 0 && measured.errors === 0,
        p50_ms: round(measured.p50Ms, 2),
        p99_ms: round(measured.p99Ms, 2),
        notes:
          `p99 target < 25 ms; non-2xx ${measured.non2xx}; socket errors and timeouts ${measured.errors}; ` +
          `baseline p99 ${round(baseline.p99Ms, 2)} ms, baseline socket errors ${baseline.errors}; ` +
          `Upstash requests per request ${perRequest((s) => s.requests)}, commands ${
            perRequest((s) => s.commands)
          }`,
      }),
      upstash_requests_per_request: perRequest((s) => s.requests),
      upstash_commands_per_request: perRequest((s) => s.commands),
      socket_errors: measured.errors,
      non_2xx: measured.non2xx,
    };
    return out;
  } finally {
    await stop(gateway);
  }
}
