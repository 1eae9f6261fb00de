// requireUser remembers tokens it verified: the remembered answer must be the verifier's answer, a
// remembered token still expires on time, and nothing but the exact string it verified is let through.
import assert from "node:assert/strict";
import type { Context } from "../http/app.ts";
import { Problem } from "../http/problem.ts";
import type { TokenConfig } from "./config.ts";
import { signAccessToken } from "./jwt.ts";
import { requireUser } from "./require_user.ts";

const config = (): TokenConfig => ({
  jwtSecret: "require-user-test-secret-of-32-characters-or-more",
  jwtAudience: "authenticated",
  jwtIssuer: "require-user-test",
  accessTokenTtlSeconds: 60,
  refreshTokenTtlSeconds: 3600,
});

const ctxWith = (token: string): Context => {
  const req = new Request("http://local/me", { headers: { authorization: `Bearer ${token}` } });
  return { req, url: new URL(req.url), params: {}, requestId: "require-user-test" };
};

const refusedWith = (code: string) => (error: unknown) =>
  error instanceof Problem && error.status === 401 && JSON.stringify(error).includes(code);

const claims = { userId: crypto.randomUUID(), role: "user" as const, sessionId: crypto.randomUUID() };
const issuedAt = new Date("2026-12-02T10:00:00Z");
const at = (seconds: number) => new Date(issuedAt.getTime() + seconds * 1000);

Deno.test("a token verified once answers the same again, and still expires at its exp", async () => {
  const tokens = config();
  const token = await signAccessToken(claims, tokens, issuedAt);
  const first = await requireUser(ctxWith(token), tokens, at(1));
  assert.deepEqual(first, claims);
  const ctx = ctxWith(token);
  assert.deepEqual(await requireUser(ctx, tokens, at(59)), claims);
  assert.equal(ctx.userId, claims.userId);
  await assert.rejects(requireUser(ctxWith(token), tokens, at(60)), (e: unknown) => e instanceof Problem);
  const expired = await requireUser(ctxWith(token), tokens, at(61)).catch((e) => e);
  assert.ok(expired instanceof Problem && expired.status === 401, String(expired));
  assert.match(JSON.stringify(expired), /expired/i);
});

Deno.test("a changed byte, another key or a cleared configuration is verified afresh", async () => {
  const tokens = config();
  const token = await signAccessToken(claims, tokens, issuedAt);
  await requireUser(ctxWith(token), tokens, at(1));
  const [header, payload, signature] = token.split(".");
  const flipped = signature!.startsWith("A") ? "B" + signature!.slice(1) : "A" + signature!.slice(1);
  await assert.rejects(
    requireUser(ctxWith(`${header}.${payload}.${flipped}`), tokens, at(2)),
    refusedWith("401"),
  );
  // Same token, but this configuration (another secret) never verified it: the signature is wrong there.
  const rotated = { ...config(), jwtSecret: "another-secret-that-is-long-enough-for-hs256-use" };
  await assert.rejects(requireUser(ctxWith(token), rotated, at(2)), refusedWith("401"));
});
