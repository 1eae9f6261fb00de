// Rate limits with the unmodified @upstash/ratelimit (sliding window) over Upstash Redis (locally the
// Upstash-compatible endpoint in devstack/). Each limiter knows what to do when Redis is down or
// slow: fail "closed" (503; for login and signup, where brute force and mass sign-up matter more
// than availability) or "open" (let the request through and log it; for routes that already need a
// valid token or an unguessable refresh token).
import { Ratelimit } from "@upstash/ratelimit";
import type { Duration } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis";
import { problems } from "./problem.ts";

export type RateRule = { tokens: number; window: Duration };
export type FailMode = "open" | "closed";

export type RateLimitConfig = {
  enabled: boolean;
  /** Key prefix in Redis; tests use their own so they never share counters with the stack. */
  prefix: string;
  /** After this, Redis counts as down (the library would otherwise let the request through). */
  timeoutMs: number;
  loginPerIp: RateRule;
  /** Failed logins per email address, from any IP (auth/handler.ts). */
  loginFailuresPerAccount: RateRule;
  signupPerIp: RateRule;
  apiPerIp: RateRule;
  apiPerUser: RateRule;
  /** POST /auth/password-reset, per client IP and per address. */
  passwordResetPerIp: RateRule;
  passwordResetPerAddress: RateRule;
};

const RULE_PATTERN = /^(\d{1,9})\s*\/\s*(\d{1,6})\s*(ms|s|m|h|d)$/;

/** "5/1m", "3/1h", "100 / 60 s": tokens per window. */
export function parseRateRule(raw: string): RateRule {
  const match = RULE_PATTERN.exec(raw.trim());
  if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
    throw new Error(`rate limit "${raw}": expected like 5/1m`);
  }
  return { tokens: Number(match[1]), window: `${Number(match[2])} ${match[3]}` as Duration };
}

export function rateLimitConfigFromEnv(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): RateLimitConfig {
  const rule = (name: string, fallback: string) => parseRateRule(env(name) ?? fallback);
  return {
    enabled: (env("RATE_LIMIT_ENABLED") ?? "true").toLowerCase() !== "false",
    prefix: env("RATE_LIMIT_PREFIX") ?? "accrue:ratelimit",
    timeoutMs: Number(env("RATE_LIMIT_TIMEOUT_MS") ?? 1000),
    loginPerIp: rule("RATE_LIMIT_LOGIN_PER_IP", "5/1m"),
    loginFailuresPerAccount: rule("RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT", "10/15m"),
    signupPerIp: rule("RATE_LIMIT_SIGNUP_PER_IP", "3/1h"),
    apiPerIp: rule("RATE_LIMIT_API_PER_IP", "100/1m"),
    apiPerUser: rule("RATE_LIMIT_API_PER_USER", "1000/1h"),
    passwordResetPerIp: rule("RATE_LIMIT_PASSWORD_RESET_PER_IP", "3/1h"),
    passwordResetPerAddress: rule("RATE_LIMIT_PASSWORD_RESET_PER_ADDRESS", "3/1h"),
  };
}

export type LimitHeaders = Record<string, string>;

export type Limiter = {
  name: string;
  /** Takes a token. Resolves with RateLimit-* headers for the response; throws a 429 or 503 Problem. */
  check(identifier: string): Promise<LimitHeaders>;
  /** Gives back a token taken by check (the library's negative rate). Never throws: if Redis is down,
   * the token stays spent until the window passes, which only errs on the strict side. */
  refund(identifier: string): Promise<void>;
};

export type LimiterOptions = {
  /** Called only when limits are enabled, so a disabled limiter needs no Redis configuration. */
  redis: () => Redis;
  name: string;
  rule: RateRule;
  failMode: FailMode;
  config: Pick<RateLimitConfig, "enabled" | "prefix" | "timeoutMs">;
  now?: () => number;
};

export function createLimiter(options: LimiterOptions): Limiter {
  const { name, rule, failMode, config } = options;
  const now = options.now ?? Date.now;
  if (!config.enabled) return { name, check: () => Promise.resolve({}), refund: () => Promise.resolve() };
  // Built once per limiter (module scope in production) so the ephemeral cache of blocked
  // identifiers survives between requests and spares Redis calls for clients already over the limit.
  const ratelimit = new Ratelimit({
    redis: options.redis(),
    limiter: Ratelimit.slidingWindow(rule.tokens, rule.window),
    prefix: `${config.prefix}:${name}`,
    timeout: config.timeoutMs,
    analytics: false,
  });

  const unavailable = (error: unknown): LimitHeaders => {
    logLimiterDown(name, failMode, error);
    if (failMode === "closed") throw problems.unavailable("Rate limiting is unavailable; retry later.");
    return {};
  };

  return {
    name,
    async check(identifier) {
      let result;
      try {
        result = await ratelimit.limit(identifier);
      } catch (error) {
        return unavailable(error);
      }
      // On timeout the library answers success with reason "timeout": that is Redis being down too.
      if (result.reason === "timeout") return unavailable(new Error(`no answer in ${config.timeoutMs} ms`));
      const resetSeconds = Math.max(0, Math.ceil((result.reset - now()) / 1000));
      const headers: LimitHeaders = {
        "RateLimit-Limit": String(result.limit),
        "RateLimit-Remaining": String(Math.max(0, result.remaining)),
        "RateLimit-Reset": String(resetSeconds),
      };
      if (!result.success) {
        throw problems.rateLimited({ ...headers, "Retry-After": String(Math.max(1, resetSeconds)) });
      }
      return headers;
    },
    async refund(identifier) {
      try {
        const result = await ratelimit.limit(identifier, { rate: -1 });
        if (result.reason === "timeout") logLimiterDown(name, "open", new Error("refund timed out"));
      } catch (error) {
        logLimiterDown(name, "open", error);
      }
    },
  };
}

/** The headers of the limit closest to running out, when a request passed several. */
export function tightest(...all: LimitHeaders[]): LimitHeaders {
  let best: LimitHeaders = {};
  for (const headers of all) {
    if (!headers["RateLimit-Remaining"]) continue;
    if (
      !best["RateLimit-Remaining"] ||
      Number(headers["RateLimit-Remaining"]) < Number(best["RateLimit-Remaining"])
    ) {
      best = headers;
    }
  }
  return best;
}

/** Copies a response with extra headers (Response headers can be immutable). */
export function withHeaders(response: Response, extra: LimitHeaders): Response {
  if (Object.keys(extra).length === 0) return response;
  const headers = new Headers(response.headers);
  for (const [key, value] of Object.entries(extra)) headers.set(key, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

function logLimiterDown(name: string, failMode: FailMode, error: unknown): void {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  console.error(JSON.stringify({
    time: new Date().toISOString(),
    level: failMode === "closed" ? "error" : "warn",
    event: "rate_limiter_unavailable",
    limiter: name,
    failMode,
    error: message.slice(0, 300),
  }));
}
