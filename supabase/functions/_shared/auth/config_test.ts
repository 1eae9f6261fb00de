import assert from "node:assert/strict";
import { tokenConfigFromEnv } from "./config.ts";

const env = (values: Record<string, string>) => (name: string) => values[name];

Deno.test("defaults: audience authenticated, 15-minute access tokens, 30-day refresh tokens", () => {
  const config = tokenConfigFromEnv(env({ JWT_SECRET: "s".repeat(32) }));
  assert.equal(config.jwtAudience, "authenticated");
  assert.equal(config.accessTokenTtlSeconds, 900);
  assert.equal(config.refreshTokenTtlSeconds, 30 * 24 * 3600);
});

Deno.test("a missing or short secret is a configuration error", () => {
  assert.throws(() => tokenConfigFromEnv(env({})));
  assert.throws(() => tokenConfigFromEnv(env({ JWT_SECRET: "short" })));
});

Deno.test("overrides are read and checked", () => {
  const config = tokenConfigFromEnv(
    env({ JWT_SECRET: "s".repeat(32), JWT_AUDIENCE: "x", ACCESS_TOKEN_TTL_SECONDS: "60" }),
  );
  assert.equal(config.jwtAudience, "x");
  assert.equal(config.accessTokenTtlSeconds, 60);
  assert.throws(() =>
    tokenConfigFromEnv(env({ JWT_SECRET: "s".repeat(32), ACCESS_TOKEN_TTL_SECONDS: "-1" }))
  );
});
