// me: authenticated GET /functions/v1/auth/me req/s under wrk (100 connections) through a gateway —
// JWT verify + per-IP and per-user rate-limit checks + one indexed read — against a bare Deno.serve
// doing one Postgres select 1 per request, in the same run. Target: >= 0.5x, p99 under 25 ms.
// The gateway runs with limits so high they never trip: every request pays for both checks.
import {
  bareServerBaseline,
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

export async function run(): Promise<BenchResult> {
  const baseline = await bareServerBaseline(BARE_PORT, "db");
  const gateway = await startGateway(PORT, HIGH_LIMITS);
  try {
    const token = await signupToken(`http://127.0.0.1:${PORT}`);
    const script = await Deno.makeTempFile({ suffix: ".lua" });
    await Deno.writeTextFile(script, `wrk.headers["Authorization"] = "Bearer ${token}"\n`);
    const measured = await wrk(`http://127.0.0.1:${PORT}/functions/v1/auth/me`, { script });
    await Deno.remove(script);
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
          `baseline p99 ${round(baseline.p99Ms, 2)} ms, baseline socket errors ${baseline.errors}`,
      }),
      socket_errors: measured.errors,
      non_2xx: measured.non2xx,
    };
    return out;
  } finally {
    await stop(gateway);
  }
}
