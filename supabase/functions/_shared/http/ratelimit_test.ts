// The limiter against a Redis that is really down: a closed port (connection refused) and a server
// that accepts and never answers (timeout). Limits against the live Upstash endpoint are covered by
// the auth handler tests.
import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import { Problem } from "./problem.ts";
import { deadRedis } from "../../../../tests/local_redis.ts";
import { createLimiter, parseRateRule, rateLimitConfigFromEnv, tightest } from "./ratelimit.ts";

const config = { enabled: true, prefix: `test:${crypto.randomUUID()}`, timeoutMs: 300 };
const rule = parseRateRule("5/1m");

Deno.test("rules parse as tokens per window", () => {
  assert.deepEqual(parseRateRule("5/1m"), { tokens: 5, window: "1 m" });
  assert.deepEqual(parseRateRule(" 1000 / 1 h "), { tokens: 1000, window: "1 h" });
  for (const bad of ["", "5", "0/1m", "5/0m", "5/1y", "-1/1m"]) assert.throws(() => parseRateRule(bad), bad);
});

Deno.test("defaults are the contract's limits, and each is configurable", () => {
  const defaults = rateLimitConfigFromEnv(() => undefined);
  assert.deepEqual(defaults.loginPerIp, { tokens: 5, window: "1 m" });
  assert.deepEqual(defaults.loginFailuresPerAccount, { tokens: 10, window: "15 m" });
  assert.deepEqual(defaults.signupPerIp, { tokens: 3, window: "1 h" });
  assert.deepEqual(defaults.apiPerIp, { tokens: 100, window: "1 m" });
  assert.deepEqual(defaults.apiPerUser, { tokens: 1000, window: "1 h" });
  assert.equal(defaults.enabled, true);
  const custom = rateLimitConfigFromEnv((n) =>
    ({
      RATE_LIMIT_LOGIN_PER_IP: "10/30s",
      RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT: "20/1h",
      RATE_LIMIT_ENABLED: "false",
    } as Record<string, string>)[n]
  );
  assert.deepEqual(custom.loginPerIp, { tokens: 10, window: "30 s" });
  assert.deepEqual(custom.loginFailuresPerAccount, { tokens: 20, window: "1 h" });
  assert.equal(custom.enabled, false);
});

Deno.test("a disabled limiter never touches Redis", async () => {
  const limiter = createLimiter({
    redis: () => {
      throw new Error("must not be called");
    },
    name: "off",
    rule,
    failMode: "closed",
    config: { ...config, enabled: false },
  });
  assert.deepEqual(await limiter.check("ip:1.2.3.4"), {});
});

Deno.test("Redis refusing connections: a fail-closed limiter answers 503", async () => {
  const redis = deadRedis();
  const limiter = createLimiter({ redis: () => redis, name: "closed", rule, failMode: "closed", config });
  await assert.rejects(limiter.check("ip:1.2.3.4"), (error: unknown) => {
    assert.ok(error instanceof Problem);
    assert.equal(error.status, 503);
    assert.equal(error.code, "unavailable");
    return true;
  });
});

Deno.test("Redis refusing connections: a fail-open limiter lets the request through", async () => {
  const redis = deadRedis();
  const limiter = createLimiter({ redis: () => redis, name: "open", rule, failMode: "open", config });
  assert.deepEqual(await limiter.check("ip:1.2.3.4"), {});
});

Deno.test("Redis refusing connections: a refund never throws (the token stays spent)", async () => {
  const redis = deadRedis();
  const limiter = createLimiter({ redis: () => redis, name: "refund", rule, failMode: "closed", config });
  await limiter.refund("account:x");
});

Deno.test("Redis accepting but never answering: the timeout counts as down", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    const { port } = listener.addr as Deno.NetAddr;
    const redis = new Redis({
      url: `http://127.0.0.1:${port}`,
      token: "x",
      retry: { retries: 0 },
      enableTelemetry: false,
    });
    const closed = createLimiter({
      redis: () => redis,
      name: "slow-closed",
      rule,
      failMode: "closed",
      config,
    });
    const open = createLimiter({ redis: () => redis, name: "slow-open", rule, failMode: "open", config });
    // The server never answers a byte, so the check can only end by giving up on its own (its timeout):
    // ending at all, with 503, is the proof; how fast depends on the machine, so it is not asserted.
    await assert.rejects(
      closed.check("ip:1.2.3.4"),
      (error: unknown) => error instanceof Problem && error.status === 503,
    );
    assert.ok(held.length >= 1, "the request reached the silent server");
    assert.deepEqual(await open.check("ip:1.2.3.4"), {});
  } finally {
    listener.close();
    for (const conn of held) conn.close();
    await accepting.catch(() => {});
  }
});

Deno.test("tightest picks the limit with the fewest requests left", () => {
  const a = { "RateLimit-Limit": "100", "RateLimit-Remaining": "40", "RateLimit-Reset": "10" };
  const b = { "RateLimit-Limit": "1000", "RateLimit-Remaining": "7", "RateLimit-Reset": "3000" };
  assert.deepEqual(tightest(a, b), b);
  assert.deepEqual(tightest({}, a), a);
  assert.deepEqual(tightest({}, {}), {});
});
