// Builds the auth handler against the real local Postgres and Upstash endpoint, with its own
// rate-limit key prefix and configuration, so handler tests never share counters with each other.
import { Redis } from "@upstash/redis";
import type { TokenConfig } from "../_shared/auth/config.ts";
import type { RateLimitConfig } from "../_shared/http/ratelimit.ts";
import type { Sql } from "../_shared/infra/db.ts";
import { createAuthHandler } from "./handler.ts";

export const UPSTASH_URL = Deno.env.get("UPSTASH_REDIS_REST_URL") ?? "http://127.0.0.1:54380";
export const UPSTASH_TOKEN = Deno.env.get("UPSTASH_REDIS_REST_TOKEN") ?? "local-dev-token";

export const TEST_TOKENS: TokenConfig = {
  jwtSecret: Deno.env.get("JWT_SECRET") ?? "super-secret-jwt-token-with-at-least-32-characters-long",
  jwtAudience: "authenticated",
  jwtIssuer: "accrue",
  accessTokenTtlSeconds: 900,
  refreshTokenTtlSeconds: 3600,
};

const liveRedis = new Redis({
  url: UPSTASH_URL,
  token: UPSTASH_TOKEN,
  retry: { retries: 0 },
  enableTelemetry: false,
});

export function rateLimits(overrides: Partial<RateLimitConfig> = {}): RateLimitConfig {
  return {
    enabled: true,
    prefix: `test:${crypto.randomUUID()}`,
    timeoutMs: 1000,
    loginPerIp: { tokens: 5, window: "1 m" },
    loginFailuresPerAccount: { tokens: 10, window: "15 m" },
    signupPerIp: { tokens: 3, window: "1 h" },
    apiPerIp: { tokens: 100, window: "1 m" },
    apiPerUser: { tokens: 1000, window: "1 h" },
    passwordResetPerIp: { tokens: 3, window: "1 h" },
    passwordResetPerAddress: { tokens: 3, window: "1 h" },
    ...overrides,
  };
}

export function authHandler(
  sql: Sql,
  options: { rateLimits?: RateLimitConfig; redis?: Redis; now?: () => Date } = {},
) {
  return createAuthHandler({
    sql: () => sql,
    redis: () => options.redis ?? liveRedis,
    tokens: TEST_TOKENS,
    rateLimits: options.rateLimits ?? rateLimits({ enabled: false }),
    ip: { header: "x-forwarded-for", hop: 1 },
    ...(options.now ? { now: options.now } : {}),
  });
}

export { deadRedis } from "../../../tests/local_redis.ts";

/** A client IP no other test uses (TEST-NET and documentation ranges are not enough for many runs). */
export function randomIp(): string {
  const b = crypto.getRandomValues(new Uint8Array(3));
  return `10.${b[0]}.${b[1]}.${b[2]}`;
}

export function uniqueEmail(label = "user"): string {
  return `${label}-${crypto.randomUUID()}@example.com`;
}

export function requestId(): string {
  return `test-${crypto.randomUUID()}`;
}

export type Call = {
  path: string;
  method?: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
};

export function request(call: Call): Request {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-forwarded-for": randomIp(),
    "x-request-id": requestId(),
    ...call.headers,
  };
  const body = call.raw ?? (call.body === undefined ? undefined : JSON.stringify(call.body));
  return new Request(`http://127.0.0.1/auth${call.path}`, {
    method: call.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    ...(body === undefined ? {} : { body }),
  });
}

export async function send(handler: (req: Request) => Promise<Response>, call: Call) {
  const req = request(call);
  const response = await handler(req);
  const text = await response.text();
  // deno-lint-ignore no-explicit-any
  const body: any = text ? JSON.parse(text) : null;
  return {
    status: response.status,
    headers: response.headers,
    body,
    requestId: req.headers.get("x-request-id")!,
  };
}

export { awayFromWindowBoundary } from "../../../tests/support.ts";
