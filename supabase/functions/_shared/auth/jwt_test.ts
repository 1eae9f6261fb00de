import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { generateKeyPair, SignJWT } from "jose";
import type { TokenConfig } from "./config.ts";
import { type AccessClaims, AccessTokenError, signAccessToken, verifyAccessToken } from "./jwt.ts";

const config: TokenConfig = {
  jwtSecret: "unit-test-secret-with-at-least-32-characters",
  jwtAudience: "authenticated",
  jwtIssuer: "accrue",
  accessTokenTtlSeconds: 900,
  refreshTokenTtlSeconds: 3600,
};
const claims: AccessClaims = { userId: crypto.randomUUID(), role: "user", sessionId: crypto.randomUUID() };
const now = new Date("2026-11-22T10:00:00Z");
const key = new TextEncoder().encode(config.jwtSecret);

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const decode = (part: string) => JSON.parse(Buffer.from(part, "base64url").toString("utf8"));

async function rejects(token: string, reason: "expired" | "invalid", at = now) {
  await assert.rejects(verifyAccessToken(token, config, at), (error: unknown) => {
    assert.ok(error instanceof AccessTokenError);
    assert.equal(error.reason, reason);
    return true;
  });
}

Deno.test("a signed token verifies and carries the Supabase claims", async () => {
  const token = await signAccessToken(claims, config, now);
  assert.deepEqual(await verifyAccessToken(token, config, now), claims);
  const [header, payload] = token.split(".");
  assert.deepEqual(decode(header!), { alg: "HS256", typ: "JWT" });
  const body = decode(payload!);
  assert.equal(body.sub, claims.userId);
  assert.equal(body.role, "authenticated");
  assert.equal(body.aud, "authenticated");
  assert.deepEqual(body.app_metadata, { role: "user" });
  assert.equal(body.exp - body.iat, 900);
  assert.equal(body.iat, Math.floor(now.getTime() / 1000));
});

Deno.test("an admin's token carries app_metadata.role admin", async () => {
  const token = await signAccessToken({ ...claims, role: "admin" }, config, now);
  assert.equal((await verifyAccessToken(token, config, now)).role, "admin");
});

Deno.test("alg none is refused", async () => {
  const token = await signAccessToken(claims, config, now);
  const [, payload] = token.split(".");
  await rejects(`${b64url({ alg: "none", typ: "JWT" })}.${payload}.`, "invalid");
  await rejects(`${b64url({ alg: "none" })}.${payload}.`, "invalid");
});

Deno.test("a token signed with another key is refused", async () => {
  const other = { ...config, jwtSecret: "another-secret-with-at-least-32-characters!!" };
  await rejects(await signAccessToken(claims, other, now), "invalid");
});

Deno.test("other algorithms are refused, even with the right secret", async () => {
  const payload = { role: "authenticated", app_metadata: { role: "user" }, session_id: claims.sessionId };
  const hs512 = await new SignJWT(payload).setProtectedHeader({ alg: "HS512", typ: "JWT" }).setSubject(
    claims.userId,
  )
    .setAudience("authenticated").setIssuer("accrue").setIssuedAt(now).setExpirationTime(
      new Date(now.getTime() + 60_000),
    )
    .sign(key);
  await rejects(hs512, "invalid");
  const { privateKey } = await generateKeyPair("RS256");
  const rs256 = await new SignJWT(payload).setProtectedHeader({ alg: "RS256", typ: "JWT" }).setSubject(
    claims.userId,
  )
    .setAudience("authenticated").setIssuer("accrue").setIssuedAt(now).setExpirationTime(
      new Date(now.getTime() + 60_000),
    )
    .sign(privateKey);
  await rejects(rs256, "invalid");
});

Deno.test("an expired token is refused as expired, one second after exp", async () => {
  const token = await signAccessToken(claims, config, now);
  assert.ok(await verifyAccessToken(token, config, new Date(now.getTime() + 899_000)));
  await rejects(token, "expired", new Date(now.getTime() + 901_000));
});

Deno.test("an edited role claim breaks the signature", async () => {
  const token = await signAccessToken(claims, config, now);
  const [header, payload, signature] = token.split(".");
  const edited = { ...decode(payload!), app_metadata: { role: "admin" } };
  await rejects(`${header}.${b64url(edited)}.${signature}`, "invalid");
  const otherUser = { ...decode(payload!), sub: crypto.randomUUID() };
  await rejects(`${header}.${b64url(otherUser)}.${signature}`, "invalid");
  const longer = { ...decode(payload!), exp: decode(payload!).exp + 86_400 };
  await rejects(`${header}.${b64url(longer)}.${signature}`, "invalid");
});

Deno.test("Supabase's anon key (role anon, no user) is not a user token", async () => {
  const anon = await new SignJWT({ role: "anon", iss: "accrue" }).setProtectedHeader({
    alg: "HS256",
    typ: "JWT",
  })
    .setAudience("authenticated").setIssuedAt(now).setExpirationTime(new Date(now.getTime() + 60_000)).sign(
      key,
    );
  await rejects(anon, "invalid");
});

Deno.test("a wrong audience or issuer is refused", async () => {
  await rejects(await signAccessToken(claims, { ...config, jwtAudience: "other" }, now), "invalid");
  await rejects(await signAccessToken(claims, { ...config, jwtIssuer: "someone-else" }, now), "invalid");
});

Deno.test("garbage is refused", async () => {
  for (const token of ["", "a.b.c", "not a token", "x".repeat(10_000)]) await rejects(token, "invalid");
});
