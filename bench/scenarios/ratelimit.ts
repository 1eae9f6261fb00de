// ratelimit: what the limiter adds to GET /auth/me (p50, p99) with limiting on and off, each through its
// own gateway at a moderate load (10 connections), measured alternately in the same run.
// Its value is the added p50 (ms); p50_ms is the p50 with limiting, p99_ms the added p99.
// Target: p50 under 1 ms added. And exactness: 1,000 concurrent checks against a limit of 100 through
// the real @upstash/ratelimit and the Upstash endpoint admit exactly 100.
import { createLimiter } from "../../supabase/functions/_shared/http/ratelimit.ts";
import { Problem } from "../../supabase/functions/_shared/http/problem.ts";
import { redis } from "../../supabase/functions/_shared/infra/redis.ts";
import { awayFromWindowBoundary } from "../../tests/support.ts";
import { benchPort, type BenchResult, result, round, signupToken, startGateway, stop, wrk } from "../lib.ts";

const ON_PORT = benchPort(3);
const OFF_PORT = benchPort(4);

async function admittedOf(concurrent: number, limit: number): Promise<number> {
  await awayFromWindowBoundary(60_000);
  const limiter = createLimiter({
    redis,
    name: `bench-exact-${crypto.randomUUID()}`,
    rule: { tokens: limit, window: "1 m" },
    failMode: "closed",
    config: { enabled: true, prefix: "bench", timeoutMs: 10_000 },
  });
  const outcomes = await Promise.allSettled(
    Array.from({ length: concurrent }, () => limiter.check("one-client")),
  );
  const refused = outcomes.filter((o) =>
    o.status === "rejected" && o.reason instanceof Problem && o.reason.status === 429
  );
  if (refused.length + outcomes.filter((o) => o.status === "fulfilled").length !== concurrent) {
    throw new Error("some checks failed for another reason than 429");
  }
  return outcomes.filter((o) => o.status === "fulfilled").length;
}

export async function run(): Promise<BenchResult> {
  const on = await startGateway(ON_PORT, {
    RATE_LIMIT_API_PER_IP: "999999999/1m",
    RATE_LIMIT_API_PER_USER: "999999999/1h",
  });
  const off = await startGateway(OFF_PORT, { RATE_LIMIT_ENABLED: "false" });
  try {
    const token = await signupToken(`http://127.0.0.1:${OFF_PORT}`);
    const script = await Deno.makeTempFile({ suffix: ".lua" });
    await Deno.writeTextFile(script, `wrk.headers["Authorization"] = "Bearer ${token}"\n`);
    const samples = {
      on: [] as number[],
      off: [] as number[],
      onP99: [] as number[],
      offP99: [] as number[],
    };
    for (let round = 0; round < 2; round++) {
      const offRun = await wrk(`http://127.0.0.1:${OFF_PORT}/functions/v1/auth/me`, {
        script,
        connections: 10,
        seconds: 4,
      });
      const onRun = await wrk(`http://127.0.0.1:${ON_PORT}/functions/v1/auth/me`, {
        script,
        connections: 10,
        seconds: 4,
      });
      samples.off.push(offRun.p50Ms);
      samples.on.push(onRun.p50Ms);
      samples.offP99.push(offRun.p99Ms);
      samples.onP99.push(onRun.p99Ms);
    }
    await Deno.remove(script);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const addedP50 = mean(samples.on) - mean(samples.off);
    const addedP99 = mean(samples.onP99) - mean(samples.offP99);
    const admitted = await admittedOf(1000, 100);
    return result({
      scenario: "ratelimit",
      metric: "p50_added_ms",
      // What limiting adds: p50 with limits on minus p50 with limits off, measured alternately.
      value: round(addedP50, 3),
      unit: "ms added to p50",
      baseline: "p50 of the same route with limiting off",
      baseline_value: round(mean(samples.off), 3),
      // At most as much again as the route itself, and (the target proper) under 1 ms, exactly 100 admitted.
      target: { ratio: 1, meaning: "<=" },
      extraChecks: addedP50 < 1 && admitted === 100,
      p50_ms: round(mean(samples.on), 3),
      p99_ms: round(addedP99, 3),
      notes: `added p50 ${round(addedP50, 3)} ms (target < 1 ms), added p99 ${round(addedP99, 3)} ms; ` +
        `p50 on ${round(mean(samples.on), 3)} ms, off ${round(mean(samples.off), 3)} ms; ` +
        `exactness: ${admitted} of 1000 concurrent checks admitted against a limit of 100`,
    });
  } finally {
    await stop(on);
    await stop(off);
  }
}
