// The auth function through the local gateway (./dev up), as a client sees it. Every request sends
// from its own loopback address (the gateway appends it to X-Forwarded-For, as Supabase's proxy does),
// so rate limits never couple these tests to each other or to other suites.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { awayFromWindowBoundary, fetchFrom, fn, loopbackIp, testSql } from "./support.ts";

const PASSWORD = "correct horse battery staple";
const ROOT = new URL("..", import.meta.url).pathname;

const uniqueEmail = (label: string) => `${label}-${crypto.randomUUID()}@example.com`;

async function call(
  path: string,
  init: { body?: unknown; token?: string; ip?: string; method?: string; forwardedFor?: string } = {},
) {
  const headers: Record<string, string> = { origin: "https://app.example" };
  if (init.forwardedFor) headers["x-forwarded-for"] = init.forwardedFor;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const response = await fetchFrom(init.ip ?? loopbackIp(), fn(`auth${path}`), {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"));

Deno.test("gateway: signup, me, refresh, logout, and the refresh token dies with the session", async () => {
  const email = uniqueEmail("flow");
  const signup = await call("/signup", { body: { email, password: PASSWORD } });
  assert.equal(signup.status, 201);
  assert.ok(signup.headers.get("x-request-id"));
  assert.equal(signup.headers.get("cache-control"), "no-store");
  assert.match(signup.headers.get("access-control-expose-headers") ?? "", /ratelimit-remaining/);
  assert.equal(signup.headers.get("ratelimit-limit"), "3");

  const me = await call("/me", { token: signup.body.accessToken });
  assert.equal(me.status, 200);
  assert.equal(me.body.email, email);
  assert.equal(me.headers.get("ratelimit-limit"), "100");

  const refreshed = await call("/refresh", { body: { refreshToken: signup.body.refreshToken } });
  assert.equal(refreshed.status, 200);
  assert.equal((await call("/logout", { method: "POST", token: refreshed.body.accessToken })).status, 204);
  const after = await call("/refresh", { body: { refreshToken: refreshed.body.refreshToken } });
  assert.equal(after.status, 401);
  assert.equal(after.headers.get("content-type"), "application/problem+json");
});

Deno.test("gateway: the 6th login in a minute from one IP is 429 with Retry-After, even with the right password", async () => {
  await awayFromWindowBoundary(60_000);
  const email = uniqueEmail("limit");
  assert.equal((await call("/signup", { body: { email, password: PASSWORD } })).status, 201);
  const ip = loopbackIp();
  for (let i = 0; i < 5; i++) {
    assert.equal((await call("/login", { body: { email, password: "not the password" }, ip })).status, 401);
  }
  const sixth = await call("/login", { body: { email, password: PASSWORD }, ip });
  assert.equal(sixth.status, 429);
  assert.equal(sixth.body.code, "rate_limited");
  assert.ok(Number(sixth.headers.get("retry-after")) >= 1);
  assert.equal(sixth.headers.get("ratelimit-remaining"), "0");
});

Deno.test("gateway: forged X-Forwarded-For entries do not escape the per-IP login limit", async () => {
  await awayFromWindowBoundary(60_000);
  const ip = loopbackIp();
  const forged = () => `198.51.100.${crypto.getRandomValues(new Uint8Array(1))[0]}`;
  const attempts = [];
  for (let i = 0; i < 7; i++) {
    // A new forged first entry every time, and the client's real address written after it too: the
    // gateway appends the address it saw, and only that entry is trusted.
    const email = uniqueEmail("forged");
    const res = await call("/login", {
      body: { email, password: PASSWORD },
      ip,
      forwardedFor: `${forged()}, ${ip}`,
    });
    attempts.push(res.status);
  }
  assert.deepEqual(attempts, [401, 401, 401, 401, 401, 429, 429]);
});

Deno.test("gateway: 10 failed logins for one account from 10 addresses lock it for the right password too", async () => {
  await awayFromWindowBoundary(15 * 60_000);
  const email = uniqueEmail("account-limit");
  assert.equal((await call("/signup", { body: { email, password: PASSWORD } })).status, 201);
  for (let i = 0; i < 10; i++) {
    assert.equal((await call("/login", { body: { email, password: "not the password" } })).status, 401);
  }
  const locked = await call("/login", { body: { email, password: PASSWORD } });
  assert.equal(locked.status, 429);
  assert.equal(locked.body.code, "rate_limited");
  assert.ok(Number(locked.headers.get("retry-after")) >= 1);
});

Deno.test("the access token works for Supabase RLS: PostgREST's claims show only the user's own row", async () => {
  const a = await call("/signup", { body: { email: uniqueEmail("rls-a"), password: PASSWORD } });
  const b = await call("/signup", { body: { email: uniqueEmail("rls-b"), password: PASSWORD } });
  assert.equal(a.status, 201);
  assert.equal(b.status, 201);
  const claims = claimsOf(a.body.accessToken);
  assert.equal(claims.role, "authenticated");
  const sql = testSql(1);
  try {
    // What PostgREST does with a verified token: switch to its role claim and expose the claims.
    const rows = await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`;
      await tx.unsafe(`set local role ${claims.role === "authenticated" ? "authenticated" : "anon"}`);
      return await tx`select user_id from public.users where user_id in (${a.body.user.id}, ${b.body.user.id})`;
    });
    assert.deepEqual(rows.map((r) => r.user_id), [a.body.user.id]);
  } finally {
    await sql.end();
  }
});

Deno.test("./dev admin create <email> promotes an existing user; their next token carries the role", async () => {
  const email = uniqueEmail("admin");
  const signup = await call("/signup", { body: { email, password: PASSWORD } });
  assert.equal(claimsOf(signup.body.accessToken).app_metadata.role, "user");
  const promoted = await new Deno.Command(`${ROOT}dev`, {
    args: ["admin", "create", email.toUpperCase()],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(promoted.code, 0, new TextDecoder().decode(promoted.stderr));
  const login = await call("/login", { body: { email, password: PASSWORD } });
  assert.equal(claimsOf(login.body.accessToken).app_metadata.role, "admin");
  assert.equal(login.body.user.role, "admin");

  const unknown = await new Deno.Command(`${ROOT}dev`, {
    args: ["admin", "create", uniqueEmail("nobody")],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.notEqual(unknown.code, 0, "an unknown email is an error");
});
