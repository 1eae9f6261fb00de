// http: GET /functions/v1/health req/s under wrk (100 connections, through the gateway) against a bare
// Deno.serve doing the same Postgres select 1 and Redis PING with the same clients, in the same run.
// Target: >= 0.8x, p99 under 20 ms.
import { API_URL, bareServerBaseline, benchPort, type BenchResult, result, round, wrk } from "../lib.ts";

const BARE_PORT = benchPort(0);

export async function run(): Promise<BenchResult> {
  const baseline = await bareServerBaseline(BARE_PORT, "db,redis");
  const measured = await wrk(`${API_URL}/functions/v1/health`);
  const out = {
    ...result({
      scenario: "http",
      metric: "health_requests_per_second",
      value: round(measured.requestsPerSecond),
      unit: "req/s",
      baseline: "bare Deno.serve with the same select 1 + Redis PING",
      baseline_value: round(baseline.requestsPerSecond),
      target: { ratio: 0.8, meaning: ">=" },
      // Socket errors include wrk's 2 s timeouts: a request that never answered is a failure too.
      extraChecks: measured.p99Ms < 20 && measured.non2xx === 0 && measured.errors === 0,
      p50_ms: round(measured.p50Ms, 2),
      p99_ms: round(measured.p99Ms, 2),
      notes: `p99 target < 20 ms; baseline p99 ${round(baseline.p99Ms, 2)} ms; non-2xx ${measured.non2xx}; ` +
        `socket errors and timeouts ${measured.errors}`,
    }),
    socket_errors: measured.errors,
    non_2xx: measured.non2xx,
  };
  return out;
}
