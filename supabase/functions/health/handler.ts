// GET /health: tells "down" from "busy" (DESIGN.md §9). Each dependency is probed by at most one check at
// a time (concurrent health requests share it, so a burst of checks never queues a burst of probes), the
// database through a connection of its own (never behind the function's pool queue), and:
//   ok    answered within SLOW_MS
//   slow  answered, but late; or still waiting at the deadline while it answered within RECENT_MS before
//   down  refused or failed, or no answer by the deadline and none recently
// 200 with status "ok" or "busy" while nothing is down (a load balancer must keep a busy instance), 503 with
// status "degraded" naming what is down.
import type { Redis } from "@upstash/redis";
import { createApp, json } from "../_shared/http/app.ts";
import { createSql, type Sql } from "../_shared/infra/db.ts";
import { redis } from "../_shared/infra/redis.ts";
import { VERSION } from "../_shared/version.ts";

export type HealthTimings = { deadlineMs: number; slowMs: number; recentMs: number };
const DEFAULT_TIMINGS: HealthTimings = { deadlineMs: 2000, slowMs: 500, recentMs: 30_000 };

type Status = "ok" | "slow" | "down";

/** One dependency: single-flight probes and the time of the last success. */
export function dependency(probe: () => Promise<unknown>, timings: HealthTimings) {
  let inflight: Promise<Status> | undefined;
  let lastOkMs = Number.NEGATIVE_INFINITY;
  const run = (): Promise<Status> => {
    const started = performance.now();
    return probe().then(
      (): Status => {
        lastOkMs = performance.now();
        return lastOkMs - started <= timings.slowMs ? "ok" : "slow";
      },
      (): Status => "down",
    ).finally(() => (inflight = undefined));
  };
  return async (): Promise<Status> => {
    const probing = inflight ??= run();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"deadline">((
      resolve,
    ) => (timer = setTimeout(() => resolve("deadline"), timings.deadlineMs)));
    try {
      const outcome = await Promise.race([probing, deadline]);
      if (outcome !== "deadline") return outcome;
      return performance.now() - lastOkMs <= timings.recentMs ? "slow" : "down";
    } finally {
      clearTimeout(timer);
    }
  };
}

export function createHealthHandler(
  deps: { sql: () => Sql; redis: () => Redis; timings?: HealthTimings },
) {
  const timings = deps.timings ?? DEFAULT_TIMINGS;
  const database = dependency(() => deps.sql()`select 1`, timings);
  const cache = dependency(() => deps.redis().ping(), timings);
  return createApp({
    functionName: "health",
    routes: [{
      method: "GET",
      path: "/",
      handler: async () => {
        const [db, rd] = await Promise.all([database(), cache()]);
        const down = db === "down" || rd === "down";
        const status = down ? "degraded" : db === "ok" && rd === "ok" ? "ok" : "busy";
        return json(
          { status, database: db, redis: rd, version: VERSION, time: new Date().toISOString() },
          down ? 503 : 200,
        );
      },
    }],
  });
}

// A connection of its own: a probe must not wait behind the requests queued on the function's pool.
let probeSql: Sql | undefined;
function healthSql(): Sql {
  const url = Deno.env.get("SUPABASE_DB_URL") ?? Deno.env.get("DATABASE_URL");
  if (!url) throw new Error("Set DATABASE_URL (or SUPABASE_DB_URL on Supabase).");
  return probeSql ??= createSql(url, 1, {
    statement_timeout: 2000,
    lock_timeout: 1000,
    idle_in_transaction_session_timeout: 5000,
  });
}

export const handler = createHealthHandler({ sql: healthSql, redis });
