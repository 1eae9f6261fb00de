// http: GET /functions/v1/health req/s under wrk (100 connections, through the gateway) against a bare
// Deno.serve doing the same Postgres select 1 and Redis PING with the same clients, in the same run.
// Target: >= 0.8x, p99 under 20 ms.
import { API_URL, type BenchResult, result, round, startServer, wrk } from "../lib.ts";

const BARE_PORT = 54390;

export async function run(): Promise<BenchResult> {
  const bare = await startServer(new URL("../bare_server.ts", import.meta.url).pathname, {
    ...Deno.env.toObject(),
    BARE_PORT: String(BARE_PORT),
  }, `http://127.0.0.1:${BARE_PORT}/`);
  let baseline;
  try {
    baseline = await wrk(`http://127.0.0.1:${BARE_PORT}/`);
  } finally {
    bare.kill();
    await bare.status;
  }
  const measured = await wrk(`${API_URL}/functions/v1/health`);
  return result({
    scenario: "http",
    metric: "health_requests_per_second",
    value: round(measured.requestsPerSecond),
    unit: "req/s",
    baseline: "bare Deno.serve with the same select 1 + Redis PING",
    baseline_value: round(baseline.requestsPerSecond),
    target: { ratio: 0.8, meaning: ">=" },
    extraChecks: measured.p99Ms < 20 && measured.non2xx === 0,
    p50_ms: round(measured.p50Ms, 2),
    p99_ms: round(measured.p99Ms, 2),
    notes: `p99 target < 20 ms; baseline p99 ${round(baseline.p99Ms, 2)} ms; non-2xx ${measured.non2xx}`,
  });
}
