// GET /health: 200 when Postgres and Redis answer, 503 naming the part that does not.
import type { Redis } from "@upstash/redis";
import { createApp, json } from "../_shared/http/app.ts";
import type { Sql } from "../_shared/infra/db.ts";
import { db } from "../_shared/infra/db.ts";
import { redis } from "../_shared/infra/redis.ts";
import { VERSION } from "../_shared/version.ts";

const CHECK_TIMEOUT_MS = 2000;

async function probe(check: () => Promise<unknown>): Promise<"ok" | "down"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return "ok";
  } catch {
    return "down";
  } finally {
    clearTimeout(timer);
  }
}

export function createHealthHandler(deps: { sql: () => Sql; redis: () => Redis }) {
  return createApp({
    functionName: "health",
    routes: [{
      method: "GET",
      path: "/",
      handler: async () => {
        const [database, cache] = await Promise.all([
          probe(() => deps.sql()`select 1`),
          probe(() => deps.redis().ping()),
        ]);
        const healthy = database === "ok" && cache === "ok";
        return json(
          { status: healthy ? "ok" : "degraded", database, redis: cache, version: VERSION, time: new Date().toISOString() },
          healthy ? 200 : 503,
        );
      },
    }],
  });
}

export const handler = createHealthHandler({ sql: db, redis });
