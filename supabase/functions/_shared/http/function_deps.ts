// What every function with user routes is built from, and how production builds it from the
// environment. Handlers are factories over these (tests pass their own), and each function's exported
// handler is built lazily from the environment.
import type { Redis } from "@upstash/redis";
import { type TokenConfig, tokenConfigFromEnv } from "../auth/config.ts";
import { type ClientIpConfig, clientIpConfigFromEnv } from "./client_ip.ts";
import { type RateLimitConfig, rateLimitConfigFromEnv } from "./ratelimit.ts";
import { db, readDb, type Sql } from "../infra/db.ts";
import { redis } from "../infra/redis.ts";

export type FunctionDeps = {
  sql: () => Sql;
  /** Bulk reads that may lag (exports): the read replica when READ_DATABASE_URL is set, else \`sql\`. */
  readSql?: () => Sql;
  redis: () => Redis;
  tokens: TokenConfig;
  rateLimits: RateLimitConfig;
  ip: ClientIpConfig;
  now?: () => Date;
};

export function functionDepsFromEnv(): FunctionDeps {
  return {
    sql: db,
    readSql: readDb,
    redis,
    tokens: tokenConfigFromEnv(),
    rateLimits: rateLimitConfigFromEnv(),
    ip: clientIpConfigFromEnv(),
  };
}

type Handler = (req: Request) => Promise<Response>;

/** Built on the first request rather than at import, so a missing secret fails this function's
 * requests instead of every function the local gateway loads. Module scope either way: the rate
 * limiters and their ephemeral caches live as long as the isolate. */
export function lazyHandler(build: () => Handler): Handler {
  let built: Handler | undefined;
  return (req) => (built ??= build())(req);
}
