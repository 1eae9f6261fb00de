// GET /health: 200 when Postgres and Redis answer, 503 naming the part that does not.
import type { Redis } from "@upstash/redis";
import { createApp, json } from "../_shared/http/app.ts";
import type { Sql } from "../_shared/infra/db.ts";
import { db } from "../_shared/infra/db.ts";
import { redis } from "../_shared/infra/redis.ts";
import { VERSION } from "../_shared/version.ts";

const CHECK_TIMEOUT_MS = 2000;

type Status = "ok" | "down";

/** Runs both checks under one deadline: a dependency that hangs counts as down, not as a hung check. */
async function probeAll(checks: Array<() => Promise<unknown>>): Promise<Status[]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"down">((resolve) => {
    timer = setTimeout(() => resolve("down"), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.all(
      checks.map((check) => Promise.race([check().then((): Status => "ok", (): Status => "down"), deadline])),
    );
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
        const [database, cache] = await probeAll([() => deps.sql()`select 1`, () => deps.redis().ping()]);
        const healthy = database === "ok" && cache === "ok";
        return json(
          {
            status: healthy ? "ok" : "degraded",
            database,
            redis: cache,
            version: VERSION,
            time: new Date().toISOString(),
          },
          healthy ? 200 : 503,
        );
      },
    }],
  });
}

export const handler = createHealthHandler({ sql: db, redis });
