// Authenticated routes, for every function: the token first (local work), then the per-IP and
// per-user limits together (one pipelined round trip: @upstash/redis auto-pipelines commands issued
// in the same tick); a user GET's handler runs alongside that round trip, anything else (and every
// admin route) after it. A bad token is still counted against its IP, so floods of bad tokens are
// limited too. Both limits fail open when Redis is down:
// these routes already need a valid signed token, and refusing every signed-in user because the
// limiter is down would turn a Redis outage into a full outage. Admin routes also read the caller's
// role from the database on every request: a demoted admin is refused at once, whatever the token says.
import type { Redis } from "@upstash/redis";
import type { Context, Handler } from "../http/app.ts";
import { clientIpBucket, type ClientIpConfig } from "../http/client_ip.ts";
import { problems } from "../http/problem.ts";
import {
  createLimiter,
  type Limiter,
  type LimitHeaders,
  type RateLimitConfig,
  tightest,
  withHeaders,
} from "../http/ratelimit.ts";
import { isAdminNow } from "../infra/admin_authority.ts";
import type { Sql } from "../infra/db.ts";
import type { TokenConfig } from "./config.ts";
import { type AuthUser, requireAdmin, requireUser } from "./require_user.ts";

export type UserGuard = {
  sql: () => Sql;
  apiPerIp: Limiter;
  apiPerUser: Limiter;
  tokens: TokenConfig;
  ip: ClientIpConfig;
  now: () => Date;
};

export type UserGuardDeps = {
  sql: () => Sql;
  redis: () => Redis;
  rateLimits: RateLimitConfig;
  tokens: TokenConfig;
  ip: ClientIpConfig;
  now?: () => Date;
};

/** Build once per function at module scope (the limiters keep their ephemeral caches). */
export function createUserGuard(deps: UserGuardDeps): UserGuard {
  const common = { redis: deps.redis, config: deps.rateLimits, failMode: "open" as const };
  return {
    sql: deps.sql,
    apiPerIp: createLimiter({ ...common, name: "api-ip", rule: deps.rateLimits.apiPerIp }),
    apiPerUser: createLimiter({ ...common, name: "api-user", rule: deps.rateLimits.apiPerUser }),
    tokens: deps.tokens,
    ip: deps.ip,
    now: deps.now ?? (() => new Date()),
  };
}

/** Per-IP limits count per IPv4 address or IPv6 /64 (client_ip.ts). */
export function ipKey(req: Request, config: ClientIpConfig): string {
  return `ip:${clientIpBucket(req, config) ?? "unknown"}`;
}

/** Methods that only read (RFC 9110 safe methods our routes use). */
function isRead(method: string): boolean {
  return method === "GET" || method === "HEAD";
}

export type UserHandler = (ctx: Context, user: AuthUser) => Promise<Response> | Response;

export function userRoute(
  guard: UserGuard,
  handler: UserHandler,
  options: { admin?: boolean } = {},
): Handler {
  return async (ctx) => {
    const ip = ipKey(ctx.req, guard.ip);
    let user: AuthUser;
    try {
      // Verifying the token is local work (a map lookup for a token this isolate verified before); it
      // goes first so that the two limits can be checked together: issued in the same tick, they travel
      // to Redis in one pipelined request (1.00 Upstash requests per /auth/me, counted at the endpoint).
      user = options.admin
        ? await requireAdmin(ctx, guard.tokens, guard.now())
        : await requireUser(ctx, guard.tokens, guard.now());
    } catch (error) {
      // A bad token still counts against its IP, and an IP over its limit gets 429 before 401.
      await guard.apiPerIp.check(ip);
      throw error;
    }
    const limits = Promise.all([guard.apiPerIp.check(ip), guard.apiPerUser.check(`user:${user.userId}`)]);
    if (!options.admin && isRead(ctx.req.method)) {
      // A read changes nothing, so it runs while the limits are checked (the two round trips overlap)
      // and its answer is thrown away when a limit refuses: the 429 (or a fail-closed 503) still wins.
      const reading = Promise.resolve().then(() => handler(ctx, user));
      reading.catch(() => {}); // its failure is reported below, or not at all when a limit refused
      let headers: LimitHeaders[];
      try {
        headers = await limits;
      } catch (refused) {
        reading.then((response) => response.body?.cancel(), () => {});
        throw refused;
      }
      return withHeaders(await reading, tightest(...headers));
    }
    // Anything that may change something runs only once both limits let it through.
    const [ipHeaders, userHeaders] = await limits;
    // The token's role is only a cheap first filter; the database says whether it still holds.
    if (options.admin && !(await isAdminNow(guard.sql(), user.userId))) {
      throw problems.forbidden("This route is for administrators.");
    }
    return withHeaders(await handler(ctx, user), tightest(ipHeaders, userHeaders));
  };
}
