// The admin function (CONTRACT.md "Admin routes"): admin role only, others 403, anonymous 401. Each area
// brings its own route list; adding one is one import and one line in `routes` below.
import type { Redis } from "@upstash/redis";
import { type TokenConfig, tokenConfigFromEnv } from "../_shared/auth/config.ts";
import { createUserGuard, type UserGuard } from "../_shared/auth/guard.ts";
import { createApp, type Route } from "../_shared/http/app.ts";
import { type ClientIpConfig, clientIpConfigFromEnv } from "../_shared/http/client_ip.ts";
import { type RateLimitConfig, rateLimitConfigFromEnv } from "../_shared/http/ratelimit.ts";
import { db, type Sql } from "../_shared/infra/db.ts";
import { type DocumentStorage, linkTtlSecondsFromEnv } from "../_shared/infra/document_storage/document_storage.ts";
import { documentStorageFromEnv } from "../_shared/infra/document_storage/from_env.ts";
import { redis } from "../_shared/infra/redis.ts";
import { uploadLimitsFromEnv } from "../kyc/upload_limits.ts";
import { kycRoutes } from "./kyc_routes.ts";
import { packageRoutes } from "./packages_routes.ts";
import { userRoutes } from "./users_routes.ts";
import { withdrawalRoutes } from "./withdrawals_routes.ts";

export type AdminDeps = {
  sql: () => Sql;
  redis: () => Redis;
  tokens: TokenConfig;
  rateLimits: RateLimitConfig;
  ip: ClientIpConfig;
  /** KYC document links. */
  storage: () => Promise<DocumentStorage>;
  linkTtlSeconds: number;
  now?: () => Date;
};

/** What every route module receives: the dependencies plus the one guard (rate limiters) they share. */
export type AdminRouteDeps = AdminDeps & { guard: UserGuard; now: () => Date };

export function createAdminHandler(deps: AdminDeps) {
  const now = deps.now ?? (() => new Date());
  const routeDeps: AdminRouteDeps = { ...deps, now, guard: createUserGuard({ ...deps, now }) };
  const routes: Route[] = [
    ...kycRoutes(routeDeps),
    ...packageRoutes(routeDeps),
    ...withdrawalRoutes(routeDeps),
    ...userRoutes(routeDeps),
  ];
  return createApp({ functionName: "admin", routes });
}

let built: ((req: Request) => Promise<Response>) | undefined;
let storage: Promise<DocumentStorage> | undefined;

/** Built on first use, so a missing secret fails this function only, not the gateway. */
export const handler = (req: Request) =>
  (built ??= createAdminHandler({
    sql: db,
    redis,
    tokens: tokenConfigFromEnv(),
    rateLimits: rateLimitConfigFromEnv(),
    ip: clientIpConfigFromEnv(),
    storage: () => (storage ??= documentStorageFromEnv(uploadLimitsFromEnv().fileSizeBytesMax)),
    linkTtlSeconds: linkTtlSecondsFromEnv(),
  }))(req);
