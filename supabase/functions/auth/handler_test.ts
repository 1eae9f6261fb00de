// The auth function in-process, against the real local Postgres and Upstash endpoint (./dev up).
// Every test uses its own emails, client IPs and rate-limit prefix, so suites can run again and
// side by side against the same database.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { SignJWT } from "jose";
import { testSql } from "../../../tests/support.ts";
import { eventSchemas } from "../_shared/domain/events.ts";
import {
  authHandler,
  awayFromWindowBoundary,
  deadRedis,
  randomIp,
  rateLimits,
  send,
  TEST_TOKENS,
  uniqueEmail,
  UPSTASH_TOKEN,
  UPSTASH_URL,
} from "./handler_test_support.ts";

const sql = testSql(30);
const auth = authHandler(sql);
const PASSWORD = "correct horse battery staple";

// The pool lives for the whole file; close it after the last test.
globalThis.addEventListener("unload", () => void sql.end());

async function signup(email = uniqueEmail(), extra: Record<string, unknown> = {}) {
  const result = await send(auth, { path: "/signup", body: { email, password: PASSWORD, ...extra } });
  assert.equal(result.status, 201, JSON.stringify(result.body));
  return result.body as {
    user: { id: string; email: string; referralCode: string; role: string };
    accessToken: string;
    refreshToken: string;
  };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function assertProblem(
  result: { status: number; headers: Headers; body: Record<string, unknown> },
  status: number,
  code: string,
) {
  assert.equal(result.status, status, JSON.stringify(result.body));
  assert.equal(result.headers.get("content-type"), "application/problem+json");
  assert.equal(result.body.code, code);
  assert.equal(result.body.type, `/problems/${code}`);
  assert.equal(result.body.status, status);
  assert.doesNotMatch(JSON.stringify(result.body), /select|insert|postgres|stack|at \w+ \(/i);
}

/** What a signup attempt wrote: profiles with the email, and events appended under its request id. */
async function writtenBy(email: string, requestId: string) {
  const [row] = await sql<{ profiles: number; events: number }[]>`
    select (select count(*)::int from private.profiles where email = ${
    email.trim().normalize("NFC").toLowerCase()
  }) as profiles,
           (select count(*)::int from event_store.events where metadata ->> 'requestId' = ${requestId}) as events`;
  return row!;
}

// ---------- signup ----------

Deno.test("signup returns the user and a token pair, stores no plaintext and appends UserRegistered without personal data", async () => {
  const email = uniqueEmail("signup");
  const result = await send(auth, { path: "/signup", body: { email, password: PASSWORD } });
  assert.equal(result.status, 201);
  const { user, accessToken, refreshToken, expiresIn } = result.body;
  assert.deepEqual(Object.keys(result.body).sort(), ["accessToken", "expiresIn", "refreshToken", "user"]);
  assert.equal(expiresIn, 900);
  assert.equal(user.email, email);
  assert.equal(user.role, "user");
  assert.equal(user.referrerId, null);
  assert.equal(user.vipLevel, 0);
  assert.equal(user.kycStatus, "none");
  assert.match(user.referralCode, /^[23456789ABCDEFGHJKMNPQRSTVWXYZ]{8}$/);
  assert.match(user.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.ok(accessToken.split(".").length === 3);
  assert.match(refreshToken, /^[A-Za-z0-9_-]{43}$/);

  const [credentials] = await sql`select password_hash from private.credentials where user_id = ${user.id}`;
  assert.match(credentials!.password_hash, /^\$scrypt\$ln=14,r=8,p=5\$/);
  assert.ok(!credentials!.password_hash.includes(PASSWORD));
  const tokens = await sql`select token_sha256 from private.refresh_tokens where user_id = ${user.id}`;
  assert.equal(tokens.length, 1);
  assert.notEqual(tokens[0]!.token_sha256, refreshToken);

  const events =
    await sql`select type, data, metadata, stream_id from event_store.events where stream_id = ${`user-${user.id}`}`;
  assert.equal(events.length, 1);
  assert.equal(events[0]!.type, "UserRegistered");
  assert.deepEqual(events[0]!.data, { userId: user.id, referrerId: null, referralCode: user.referralCode });
  assert.ok(
    eventSchemas.UserRegistered.data.safeParse(events[0]!.data).success,
    "the event matches the union",
  );
  assert.ok(!JSON.stringify(events[0]).includes(email.split("@")[0]!), "no email in the event");
  assert.equal(events[0]!.metadata.requestId, result.requestId);
});

Deno.test("twenty concurrent signups with one email: exactly one 201 and nineteen 409 email_taken", async () => {
  const email = uniqueEmail("race");
  const results = await Promise.all(
    Array.from({ length: 20 }, () => send(auth, { path: "/signup", body: { email, password: PASSWORD } })),
  );
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [201, ...Array(19).fill(409)]);
  for (const r of results.filter((r) => r.status === 409)) assertProblem(r, 409, "email_taken");
  const [row] = await sql`select count(*)::int as n from private.profiles where email = ${email}`;
  assert.equal(row!.n, 1);
  const userId = results.find((r) => r.status === 201)!.body.user.id;
  const [events] =
    await sql`select count(*)::int as n from event_store.events where stream_id = ${`user-${userId}`}`;
  assert.equal(events!.n, 1);
});

Deno.test("emails are trimmed and case-insensitive, unicode included (NFC)", async () => {
  const tag = crypto.randomUUID().slice(0, 8);
  const first = await send(auth, {
    path: "/signup",
    body: { email: `  Ünïcödé.${tag}@Bücher.Example `, password: PASSWORD },
  });
  assert.equal(first.status, 201);
  assert.equal(first.body.user.email, `ünïcödé.${tag}@bücher.example`);
  // Decomposed accents, other case: the same address.
  const decomposed = `u\u0308ni\u0308co\u0308de\u0301.${tag}@bu\u0308cher.example`.toUpperCase();
  const again = await send(auth, { path: "/signup", body: { email: decomposed, password: PASSWORD } });
  assertProblem(again, 409, "email_taken");
  const login = await send(auth, {
    path: "/login",
    body: { email: `ÜNÏCÖDÉ.${tag.toUpperCase()}@BÜCHER.EXAMPLE`, password: PASSWORD },
  });
  assert.equal(login.status, 200);
  assert.equal(login.body.user.id, first.body.user.id);
});

Deno.test("a referral code links the new user to the referrer, fixed in the event", async () => {
  const referrer = await signup();
  const typed = `${referrer.user.referralCode.slice(0, 4).toLowerCase()}-${
    referrer.user.referralCode.slice(4)
  }`;
  const referred = await signup(uniqueEmail("referred"), { referralCode: typed });
  assert.equal((referred.user as unknown as { referrerId: string }).referrerId, referrer.user.id);
  assert.notEqual(referred.user.referralCode, referrer.user.referralCode);
  const [event] =
    await sql`select data from event_store.events where stream_id = ${`user-${referred.user.id}`}`;
  assert.deepEqual(event!.data, {
    userId: referred.user.id,
    referrerId: referrer.user.id,
    referralCode: referred.user.referralCode,
  });
});

Deno.test("an unknown referral code is 422 unknown_referral_code and writes nothing", async () => {
  const email = uniqueEmail("unknown-ref");
  let code = "ZZZZZZZZ";
  for (;;) {
    const [row] = await sql`select 1 from public.users where referral_code = ${code}`;
    if (!row) break;
    code = code.replace(/./, "Y");
  }
  const result = await send(auth, {
    path: "/signup",
    body: { email, password: PASSWORD, referralCode: code },
  });
  assertProblem(result, 422, "unknown_referral_code");
  assert.deepEqual(await writtenBy(email, result.requestId), { profiles: 0, events: 0 });
});

// ---------- adversarial input: every case is the right 4xx problem and writes nothing ----------

const INJECTIONS = [
  "' OR '1'='1' --",
  "x'); drop table private.profiles; --",
  '"; select pg_sleep(5); --',
  "1; update private.credentials set role = 'admin'",
];
const HUGE = "a".repeat(10_000);

type Case = {
  name: string;
  body?: unknown;
  raw?: string;
  contentType?: string;
  status: number;
  code: string;
  email?: string;
};

function signupCases(): Case[] {
  const email = () => uniqueEmail("adv");
  const cases: Case[] = [];
  const add = (name: string, body: Record<string, unknown>, status = 400, code = "validation_failed") =>
    cases.push({
      name,
      body,
      status,
      code,
      ...(typeof body.email === "string" ? { email: body.email } : {}),
    });
  for (const injection of INJECTIONS) {
    add(`injection in email: ${injection}`, { email: injection, password: PASSWORD });
    add(`injection as email local part: ${injection}`, {
      email: `${injection}@example.com`,
      password: PASSWORD,
    });
    add(`injection in referralCode: ${injection}`, {
      email: email(),
      password: PASSWORD,
      referralCode: injection,
    });
  }
  add("10,000-character email", { email: `${HUGE}@example.com`, password: PASSWORD });
  add("10,000-character password", { email: email(), password: HUGE });
  add("10,000-character referralCode", { email: email(), password: PASSWORD, referralCode: HUGE });
  add("10,000 characters in every field", { email: HUGE, password: HUGE, referralCode: HUGE });
  add("password of 9 characters", { email: email(), password: "123456789" });
  add("password of 129 characters", { email: email(), password: "p".repeat(129) });
  add("missing password", { email: email() });
  add("missing email", { password: PASSWORD });
  add("empty object", {});
  add("unknown field", { email: email(), password: PASSWORD, nickname: "x" });
  add("role smuggled in", { email: email(), password: PASSWORD, role: "admin" });
  add("app_metadata smuggled in", { email: email(), password: PASSWORD, app_metadata: { role: "admin" } });
  add(
    "__proto__ field",
    JSON.parse(`{"email":"${email()}","password":"${PASSWORD}","__proto__":{"role":"admin"}}`),
  );
  add("email of the wrong type", { email: 42, password: PASSWORD });
  add("password of the wrong type", { email: email(), password: ["a", "b"] });
  add("referralCode of the wrong type", { email: email(), password: PASSWORD, referralCode: 12345678 });
  add("null email", { email: null, password: PASSWORD });
  cases.push({
    name: "array body",
    body: [{ email: email(), password: PASSWORD }],
    status: 400,
    code: "validation_failed",
  });
  cases.push({ name: "null body", raw: "null", status: 400, code: "validation_failed" });
  const e1 = email();
  cases.push({
    name: "invalid JSON",
    raw: `{"email":"${e1}","password":`,
    status: 400,
    code: "invalid_json",
    email: e1,
  });
  cases.push({ name: "empty body", raw: "", status: 400, code: "invalid_json" });
  cases.push({ name: "invalid UTF-8", raw: "\udc80", status: 400, code: "invalid_json" });
  const e2 = email();
  cases.push({
    name: "wrong content type",
    raw: JSON.stringify({ email: e2, password: PASSWORD }),
    contentType: "text/plain",
    status: 415,
    code: "unsupported_media_type",
    email: e2,
  });
  const e3 = email();
  cases.push({
    name: "form-encoded body",
    raw: `email=${encodeURIComponent(e3)}&password=${PASSWORD}`,
    contentType: "application/x-www-form-urlencoded",
    status: 415,
    code: "unsupported_media_type",
    email: e3,
  });
  const e4 = email();
  cases.push({
    name: "oversized body (100 KiB)",
    raw: JSON.stringify({ email: e4, password: PASSWORD, padding: "x".repeat(100 * 1024) }),
    status: 413,
    code: "payload_too_large",
    email: e4,
  });
  return cases;
}

Deno.test("signup: adversarial bodies get the right problem and write nothing", async () => {
  for (const c of signupCases()) {
    const result = await send(auth, {
      path: "/signup",
      ...(c.raw !== undefined ? { raw: c.raw } : { body: c.body }),
      ...(c.contentType ? { headers: { "content-type": c.contentType } } : {}),
    });
    try {
      assertProblem(result, c.status, c.code);
      if (c.code === "validation_failed") {
        assert.ok(Array.isArray(result.body.errors) && result.body.errors.length > 0);
      }
      const written = await writtenBy(c.email ?? "nobody@example.com", result.requestId);
      assert.deepEqual(written, { profiles: 0, events: 0 });
    } catch (error) {
      throw new Error(`case "${c.name}": ${(error as Error).message}`);
    }
  }
});

Deno.test("validation errors name the field and never echo the value", async () => {
  const result = await send(auth, {
    path: "/signup",
    body: { email: "not-an-email", password: "short", extra: 1 },
  });
  assertProblem(result, 400, "validation_failed");
  const paths = result.body.errors.map((e: { path: string }) => e.path).sort();
  assert.deepEqual(paths, ["(body)", "email", "password"]);
  assert.ok(!JSON.stringify(result.body).includes("not-an-email"));
});

Deno.test("an SQL-injection-looking password is just a password: stored hashed, login works", async () => {
  const email = uniqueEmail("inj-pass");
  const password = "' OR '1'='1'; drop table private.credentials; --";
  const created = await send(auth, { path: "/signup", body: { email, password } });
  assert.equal(created.status, 201);
  const login = await send(auth, { path: "/login", body: { email, password } });
  assert.equal(login.status, 200);
  const [row] = await sql`select count(*)::int as n from private.credentials`;
  assert.ok(row!.n >= 1, "the table is still there");
});

// ---------- login ----------

Deno.test("login with the right password returns the same shape as signup", async () => {
  const created = await signup();
  const result = await send(auth, {
    path: "/login",
    body: { email: created.user.email.toUpperCase(), password: PASSWORD },
  });
  assert.equal(result.status, 200);
  assert.deepEqual(Object.keys(result.body).sort(), ["accessToken", "expiresIn", "refreshToken", "user"]);
  assert.deepEqual(result.body.user, created.user);
  assert.notEqual(result.body.refreshToken, created.refreshToken);
});

Deno.test("a wrong password and an unknown email get the same 401 invalid_credentials", async () => {
  const created = await signup();
  const wrong = await send(auth, {
    path: "/login",
    body: { email: created.user.email, password: `${PASSWORD}!` },
  });
  const unknown = await send(auth, {
    path: "/login",
    body: { email: uniqueEmail("nobody"), password: PASSWORD },
  });
  assertProblem(wrong, 401, "invalid_credentials");
  assertProblem(unknown, 401, "invalid_credentials");
  const strip = (b: Record<string, unknown>) => ({ ...b, requestId: undefined });
  assert.deepEqual(strip(wrong.body), strip(unknown.body));
  const [row] =
    await sql`select count(*)::int as n from private.refresh_token_families where user_id = ${created.user.id}`;
  assert.equal(row!.n, 1, "failed logins open no session");
});

Deno.test("login: adversarial bodies get the right problem and open no session", async () => {
  const created = await signup();
  const email = created.user.email;
  const cases: Case[] = [
    ...INJECTIONS.map((i) => ({
      name: `injection in email ${i}`,
      body: { email: i, password: PASSWORD },
      status: 400,
      code: "validation_failed",
    })),
    ...INJECTIONS.map((i) => ({
      name: `injection in password ${i}`,
      body: { email, password: i },
      status: 401,
      code: "invalid_credentials",
    })),
    {
      name: "10,000-character email",
      body: { email: `${HUGE}@example.com`, password: PASSWORD },
      status: 400,
      code: "validation_failed",
    },
    {
      name: "10,000-character password",
      body: { email, password: HUGE },
      status: 400,
      code: "validation_failed",
    },
    { name: "missing password", body: { email }, status: 400, code: "validation_failed" },
    { name: "empty password", body: { email, password: "" }, status: 400, code: "validation_failed" },
    {
      name: "unknown field",
      body: { email, password: PASSWORD, remember: true },
      status: 400,
      code: "validation_failed",
    },
    { name: "invalid JSON", raw: "{", status: 400, code: "invalid_json" },
    {
      name: "wrong content type",
      raw: JSON.stringify({ email, password: PASSWORD }),
      contentType: "text/plain",
      status: 415,
      code: "unsupported_media_type",
    },
    {
      name: "oversized body",
      raw: JSON.stringify({ email, password: PASSWORD, x: "x".repeat(100 * 1024) }),
      status: 413,
      code: "payload_too_large",
    },
  ];
  for (const c of cases) {
    const result = await send(auth, {
      path: "/login",
      ...(c.raw !== undefined ? { raw: c.raw } : { body: c.body }),
      ...(c.contentType ? { headers: { "content-type": c.contentType } } : {}),
    });
    try {
      assertProblem(result, c.status, c.code);
    } catch (error) {
      throw new Error(`case "${c.name}": ${(error as Error).message}`);
    }
  }
  const [row] =
    await sql`select count(*)::int as n from private.refresh_token_families where user_id = ${created.user.id}`;
  assert.equal(row!.n, 1, "only the signup's session exists");
});

// ---------- access tokens ----------

Deno.test("/me returns the account for a valid token", async () => {
  const created = await signup();
  const me = await send(auth, { path: "/me", headers: bearer(created.accessToken) });
  assert.equal(me.status, 200);
  assert.deepEqual(me.body, created.user);
  assert.deepEqual(Object.keys(me.body).sort(), [
    "createdAt",
    "email",
    "emailDeliverable",
    "emailVerified",
    "id",
    "kycStatus",
    "referralCode",
    "referrerId",
    "role",
    "vipLevel",
  ]);
});

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

Deno.test("forged, foreign, expired and edited tokens are refused", async () => {
  const created = await signup();
  const [header, payload, signature] = created.accessToken.split(".");
  const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
  const nowSeconds = Math.floor(Date.now() / 1000);
  const sign = (body: Record<string, unknown>, secret = TEST_TOKENS.jwtSecret) =>
    new SignJWT(body).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(new TextEncoder().encode(secret));

  const cases: [string, Record<string, string>, string][] = [
    ["no Authorization header", {}, "unauthenticated"],
    ["not a Bearer scheme", { authorization: `Basic ${btoa("a:b")}` }, "unauthenticated"],
    ["garbage token", bearer("not.a.token"), "unauthenticated"],
    ["alg none", bearer(`${b64url({ alg: "none", typ: "JWT" })}.${payload}.`), "unauthenticated"],
    [
      "signed with another key",
      bearer(await sign(claims, "some-other-secret-that-is-32-characters-long")),
      "unauthenticated",
    ],
    [
      "role claim edited to admin",
      bearer(`${header}.${b64url({ ...claims, app_metadata: { role: "admin" } })}.${signature}`),
      "unauthenticated",
    ],
    [
      "subject edited",
      bearer(`${header}.${b64url({ ...claims, sub: crypto.randomUUID() })}.${signature}`),
      "unauthenticated",
    ],
    [
      "expired",
      bearer(await sign({ ...claims, iat: nowSeconds - 1000, exp: nowSeconds - 100 })),
      "token_expired",
    ],
    [
      "Supabase anon key",
      bearer(
        await sign({
          role: "anon",
          iss: "accrue",
          aud: "authenticated",
          iat: nowSeconds,
          exp: nowSeconds + 600,
        }),
      ),
      "unauthenticated",
    ],
    ["10,000-character token", bearer("a".repeat(10_000)), "unauthenticated"],
  ];
  for (const [name, headers, code] of cases) {
    const result = await send(auth, { path: "/me", headers });
    try {
      assertProblem(result, 401, code);
    } catch (error) {
      throw new Error(`case "${name}": ${(error as Error).message}`);
    }
  }
  // The same forgeries cannot log out someone else's session either.
  const logout = await send(auth, {
    path: "/logout",
    method: "POST",
    headers: bearer(`${header}.${b64url({ ...claims, app_metadata: { role: "admin" } })}.${signature}`),
  });
  assertProblem(logout, 401, "unauthenticated");
  const [family] =
    await sql`select revoked_at from private.refresh_token_families where user_id = ${created.user.id}`;
  assert.equal(family!.revoked_at, null);
});

Deno.test("a token's expiry is 15 minutes: the injected clock moves past it", async () => {
  const created = await signup();
  const later = authHandler(sql, { now: () => new Date(Date.now() + 15 * 60_000 + 1000) });
  assertProblem(
    await send(later, { path: "/me", headers: bearer(created.accessToken) }),
    401,
    "token_expired",
  );
  const sooner = authHandler(sql, { now: () => new Date(Date.now() + 14 * 60_000) });
  assert.equal((await send(sooner, { path: "/me", headers: bearer(created.accessToken) })).status, 200);
});

// ---------- refresh and logout ----------

Deno.test("refresh rotates: a new pair each time, the old refresh token is spent", async () => {
  const created = await signup();
  const first = await send(auth, { path: "/refresh", body: { refreshToken: created.refreshToken } });
  assert.equal(first.status, 200);
  assert.notEqual(first.body.refreshToken, created.refreshToken);
  assert.deepEqual(first.body.user, created.user);
  const second = await send(auth, { path: "/refresh", body: { refreshToken: first.body.refreshToken } });
  assert.equal(second.status, 200);
  assert.equal((await send(auth, { path: "/me", headers: bearer(second.body.accessToken) })).status, 200);
});

Deno.test("reusing a refresh token revokes its whole family", async () => {
  const created = await signup();
  const rotated = await send(auth, { path: "/refresh", body: { refreshToken: created.refreshToken } });
  assert.equal(rotated.status, 200);
  const reuse = await send(auth, { path: "/refresh", body: { refreshToken: created.refreshToken } });
  assertProblem(reuse, 401, "unauthenticated");
  assert.match(reuse.body.detail, /already used/);
  // The thief's (or the victim's) newer token is dead too.
  const descendant = await send(auth, {
    path: "/refresh",
    body: { refreshToken: rotated.body.refreshToken },
  });
  assertProblem(descendant, 401, "unauthenticated");
  const [family] =
    await sql`select revoked_reason from private.refresh_token_families where user_id = ${created.user.id}`;
  assert.equal(family!.revoked_reason, "reuse");
  // Other sessions of the same user are untouched.
  const login = await send(auth, { path: "/login", body: { email: created.user.email, password: PASSWORD } });
  assert.equal(
    (await send(auth, { path: "/refresh", body: { refreshToken: login.body.refreshToken } })).status,
    200,
  );
});

Deno.test("two concurrent refreshes with one token: one wins, and the reuse revokes the family", async () => {
  const created = await signup();
  const results = await Promise.all(
    [1, 2].map(() => send(auth, { path: "/refresh", body: { refreshToken: created.refreshToken } })),
  );
  assert.deepEqual(results.map((r) => r.status).sort(), [200, 401]);
  const [family] =
    await sql`select revoked_reason from private.refresh_token_families where user_id = ${created.user.id}`;
  assert.equal(family!.revoked_reason, "reuse");
});

Deno.test("refresh: malformed bodies are 400, unknown tokens 401, and nothing is written", async () => {
  const created = await signup();
  const cases: Case[] = [
    { name: "missing", body: {}, status: 400, code: "validation_failed" },
    { name: "unknown field", body: { refreshToken: "x", extra: 1 }, status: 400, code: "validation_failed" },
    { name: "10,000 characters", body: { refreshToken: HUGE }, status: 400, code: "validation_failed" },
    { name: "wrong type", body: { refreshToken: 1 }, status: 400, code: "validation_failed" },
    { name: "invalid JSON", raw: '{"refreshToken":', status: 400, code: "invalid_json" },
    {
      name: "wrong content type",
      raw: "{}",
      contentType: "text/plain",
      status: 415,
      code: "unsupported_media_type",
    },
    ...INJECTIONS.map((i) => ({
      name: `injection ${i}`,
      body: { refreshToken: i },
      status: 401,
      code: "unauthenticated",
    })),
    { name: "never issued", body: { refreshToken: "A".repeat(43) }, status: 401, code: "unauthenticated" },
  ];
  for (const c of cases) {
    const result = await send(auth, {
      path: "/refresh",
      ...(c.raw !== undefined ? { raw: c.raw } : { body: c.body }),
      ...(c.contentType ? { headers: { "content-type": c.contentType } } : {}),
    });
    try {
      assertProblem(result, c.status, c.code);
    } catch (error) {
      throw new Error(`case "${c.name}": ${(error as Error).message}`);
    }
  }
  // None of them touched a real session (rotation writes only on success).
  const [row] =
    await sql`select count(*)::int as n, bool_or(used_at is not null) as used from private.refresh_tokens where user_id = ${created.user.id}`;
  assert.deepEqual({ ...row }, { n: 1, used: false });
});

Deno.test("logout revokes the session's refresh family: 204, then its refresh token is refused", async () => {
  const created = await signup();
  const logout = await send(auth, { path: "/logout", method: "POST", headers: bearer(created.accessToken) });
  assert.equal(logout.status, 204);
  const refresh = await send(auth, { path: "/refresh", body: { refreshToken: created.refreshToken } });
  assertProblem(refresh, 401, "unauthenticated");
  const again = await send(auth, { path: "/logout", method: "POST", headers: bearer(created.accessToken) });
  assert.equal(again.status, 204, "logging out twice is harmless");
  assertProblem(await send(auth, { path: "/logout", method: "POST" }), 401, "unauthenticated");
});

// ---------- admins ----------

Deno.test("signup never makes an admin; an operator promotion shows in the next token", async () => {
  const created = await signup();
  assert.equal(created.user.role, "user");
  await sql`select private.promote_to_admin(${` ${created.user.email.toUpperCase()} `})`;
  const old = await send(auth, { path: "/me", headers: bearer(created.accessToken) });
  assert.equal(old.body.role, "admin", "me reads the current role");
  const oldClaims = JSON.parse(Buffer.from(created.accessToken.split(".")[1]!, "base64url").toString());
  assert.equal(oldClaims.app_metadata.role, "user", "an issued token is not changed");
  const refreshed = await send(auth, { path: "/refresh", body: { refreshToken: created.refreshToken } });
  const claims = JSON.parse(Buffer.from(refreshed.body.accessToken.split(".")[1]!, "base64url").toString());
  assert.equal(claims.app_metadata.role, "admin");
  assert.equal(claims.role, "authenticated");
  assert.equal(refreshed.body.user.role, "admin");
});

// ---------- routing ----------

Deno.test("unknown routes are 404 and wrong methods 405 with Allow", async () => {
  assertProblem(await send(auth, { path: "/nope" }), 404, "not_found");
  const wrong = await send(auth, { path: "/login" });
  assertProblem(wrong, 405, "method_not_allowed");
  assert.equal(wrong.headers.get("allow"), "POST");
});

// ---------- rate limits (live Upstash endpoint, own prefix and IPs) ----------

Deno.test("the 6th login attempt in a minute from one IP is 429, even with the right password", async () => {
  await awayFromWindowBoundary(60_000);
  const limited = authHandler(sql, { rateLimits: rateLimits() });
  const created = await signup();
  const ip = randomIp();
  for (let attempt = 1; attempt <= 5; attempt++) {
    const result = await send(limited, {
      path: "/login",
      body: { email: created.user.email, password: "wrong password!" },
      headers: { "x-forwarded-for": ip },
    });
    assertProblem(result, 401, "invalid_credentials");
  }
  const sixth = await send(limited, {
    path: "/login",
    body: { email: created.user.email, password: PASSWORD },
    headers: { "x-forwarded-for": ip },
  });
  assertProblem(sixth, 429, "rate_limited");
  const retryAfter = Number(sixth.headers.get("retry-after"));
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  assert.equal(sixth.headers.get("ratelimit-limit"), "5");
  assert.equal(sixth.headers.get("ratelimit-remaining"), "0");
  assert.ok(Number(sixth.headers.get("ratelimit-reset")) <= 60);
  const [row] =
    await sql`select count(*)::int as n from private.refresh_token_families where user_id = ${created.user.id}`;
  assert.equal(row!.n, 1, "the limited login opened no session");
  // Another IP is not affected.
  const elsewhere = await send(limited, {
    path: "/login",
    body: { email: created.user.email, password: PASSWORD },
    headers: { "x-forwarded-for": randomIp() },
  });
  assert.equal(elsewhere.status, 200);
  assert.equal(elsewhere.headers.get("ratelimit-limit"), "5");
  assert.equal(elsewhere.headers.get("ratelimit-remaining"), "4");
});

Deno.test("the 4th signup in an hour from one IP is 429 and writes nothing", async () => {
  await awayFromWindowBoundary(3_600_000);
  const limited = authHandler(sql, { rateLimits: rateLimits() });
  const ip = randomIp();
  for (let i = 1; i <= 3; i++) {
    const ok = await send(limited, {
      path: "/signup",
      body: { email: uniqueEmail("limit"), password: PASSWORD },
      headers: { "x-forwarded-for": ip },
    });
    assert.equal(ok.status, 201);
    assert.equal(ok.headers.get("ratelimit-remaining"), String(3 - i));
  }
  const email = uniqueEmail("limit-4th");
  const fourth = await send(limited, {
    path: "/signup",
    body: { email, password: PASSWORD },
    headers: { "x-forwarded-for": ip },
  });
  assertProblem(fourth, 429, "rate_limited");
  // The sliding window's reset is the end of the current hour window: anywhere from 1 s to 1 h away.
  const retryAfterSeconds = Number(fourth.headers.get("retry-after"));
  assert.ok(retryAfterSeconds >= 1 && retryAfterSeconds <= 3600, `Retry-After ${retryAfterSeconds}`);
  assert.deepEqual(await writtenBy(email, fourth.requestId), { profiles: 0, events: 0 });
});

Deno.test("authenticated routes: per-IP and per-user limits, each with headers", async () => {
  await awayFromWindowBoundary(60_000);
  const created = await signup();
  const perUser = authHandler(sql, { rateLimits: rateLimits({ apiPerUser: { tokens: 2, window: "1 m" } }) });
  for (let i = 0; i < 2; i++) {
    const ok = await send(perUser, { path: "/me", headers: bearer(created.accessToken) });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("ratelimit-limit"), "2");
  }
  // A new IP each time: it is the user who is over the limit.
  assertProblem(
    await send(perUser, { path: "/me", headers: bearer(created.accessToken) }),
    429,
    "rate_limited",
  );

  const perIp = authHandler(sql, { rateLimits: rateLimits({ apiPerIp: { tokens: 2, window: "1 m" } }) });
  const ip = randomIp();
  for (let i = 0; i < 2; i++) {
    assert.equal(
      (await send(perIp, { path: "/me", headers: { ...bearer(created.accessToken), "x-forwarded-for": ip } }))
        .status,
      200,
    );
  }
  const third = await send(perIp, {
    path: "/me",
    headers: { ...bearer(created.accessToken), "x-forwarded-for": ip },
  });
  assertProblem(third, 429, "rate_limited");
  // Bad tokens from one IP are limited too: the IP limit comes before the token check.
  assertProblem(
    await send(perIp, { path: "/me", headers: { ...bearer("forged"), "x-forwarded-for": ip } }),
    429,
    "rate_limited",
  );
});

Deno.test("Redis down: login and signup fail closed (503, nothing written), me and refresh fail open", async () => {
  const created = await signup();
  const down = authHandler(sql, { rateLimits: rateLimits(), redis: deadRedis() });
  const email = uniqueEmail("redis-down");
  const signupResult = await send(down, { path: "/signup", body: { email, password: PASSWORD } });
  assertProblem(signupResult, 503, "unavailable");
  assert.deepEqual(await writtenBy(email, signupResult.requestId), { profiles: 0, events: 0 });
  const login = await send(down, { path: "/login", body: { email: created.user.email, password: PASSWORD } });
  assertProblem(login, 503, "unavailable");
  const [row] =
    await sql`select count(*)::int as n from private.refresh_token_families where user_id = ${created.user.id}`;
  assert.equal(row!.n, 1);

  const me = await send(down, { path: "/me", headers: bearer(created.accessToken) });
  assert.equal(me.status, 200);
  assert.equal(me.headers.get("ratelimit-limit"), null, "no limit was applied");
  const refresh = await send(down, { path: "/refresh", body: { refreshToken: created.refreshToken } });
  assert.equal(refresh.status, 200);
});

Deno.test("RATE_LIMIT_ENABLED=false: no limits and no Redis calls", async () => {
  const off = authHandler(sql, { rateLimits: rateLimits({ enabled: false }), redis: deadRedis() });
  const ip = randomIp();
  for (let i = 0; i < 7; i++) {
    const result = await send(off, {
      path: "/login",
      body: { email: uniqueEmail(), password: PASSWORD },
      headers: { "x-forwarded-for": ip },
    });
    assertProblem(result, 401, "invalid_credentials");
  }
});

Deno.test("malformed signups do not use up the hour's signups; taken emails do", async () => {
  await awayFromWindowBoundary(3_600_000);
  const limited = authHandler(sql, { rateLimits: rateLimits() });
  const ip = randomIp();
  const headers = { "x-forwarded-for": ip };
  for (let i = 0; i < 5; i++) {
    const bad = await send(limited, {
      path: "/signup",
      body: { email: uniqueEmail("typo"), password: "short" },
      headers,
    });
    assertProblem(bad, 400, "validation_failed");
  }
  const taken = await signup();
  const conflict = await send(limited, {
    path: "/signup",
    body: { email: taken.user.email, password: PASSWORD },
    headers,
  });
  assertProblem(conflict, 409, "email_taken");
  assert.equal(
    conflict.headers.get("ratelimit-remaining"),
    null,
    "problem responses carry no RateLimit headers",
  );
  const ok = await send(limited, {
    path: "/signup",
    body: { email: uniqueEmail("after-typos"), password: PASSWORD },
    headers,
  });
  assert.equal(ok.status, 201);
  assert.equal(ok.headers.get("ratelimit-remaining"), "1", "the 409 counted, the five 400s did not");
});

// ---------- failed logins per account, IPv6 buckets (issue "Close the leaks", item 5) ----------

const loginFrom = (handler: typeof auth, ip: string, email: string, password: string) =>
  send(handler, { path: "/login", body: { email, password }, headers: { "x-forwarded-for": ip } });

Deno.test("the 11th login after 10 failures for one account is 429 from any IP, even with the right password", async () => {
  await awayFromWindowBoundary(15 * 60_000);
  const limited = authHandler(sql, { rateLimits: rateLimits() });
  const created = await signup();
  for (let attempt = 1; attempt <= 10; attempt++) {
    // A new address every time, as a guesser rotating proxies would: the per-IP limit never trips.
    assertProblem(
      await loginFrom(limited, randomIp(), created.user.email, "wrong password!"),
      401,
      "invalid_credentials",
    );
  }
  // The address as typed another way is the same account.
  const locked = await loginFrom(limited, randomIp(), ` ${created.user.email.toUpperCase()} `, PASSWORD);
  assertProblem(locked, 429, "rate_limited");
  const retryAfter = Number(locked.headers.get("retry-after"));
  assert.ok(retryAfter >= 1 && retryAfter <= 900, `Retry-After ${retryAfter}`);
  assert.equal(locked.headers.get("ratelimit-limit"), "10");
  const [row] =
    await sql`select count(*)::int as n from private.refresh_token_families where user_id = ${created.user.id}`;
  assert.equal(row!.n, 1, "the locked login opened no session");
  // Another account is not affected.
  const other = await signup();
  assert.equal((await loginFrom(limited, randomIp(), other.user.email, PASSWORD)).status, 200);
});

Deno.test("only failed logins count against an account: successful ones give their token back", async () => {
  await awayFromWindowBoundary(15 * 60_000);
  const limited = authHandler(sql, {
    rateLimits: rateLimits({ loginFailuresPerAccount: { tokens: 3, window: "15 m" } }),
  });
  const created = await signup();
  const email = created.user.email;
  for (let i = 0; i < 2; i++) {
    assertProblem(await loginFrom(limited, randomIp(), email, "wrong password!"), 401, "invalid_credentials");
  }
  for (let i = 0; i < 4; i++) {
    assert.equal((await loginFrom(limited, randomIp(), email, PASSWORD)).status, 200);
  }
  assertProblem(await loginFrom(limited, randomIp(), email, "wrong password!"), 401, "invalid_credentials");
  assertProblem(await loginFrom(limited, randomIp(), email, PASSWORD), 429, "rate_limited");
});

Deno.test("concurrent guesses at one account: no more than the limit reach the password check", async () => {
  await awayFromWindowBoundary(15 * 60_000);
  const limited = authHandler(sql, {
    rateLimits: rateLimits({ loginFailuresPerAccount: { tokens: 3, window: "15 m" } }),
  });
  const created = await signup();
  const results = await Promise.all(
    Array.from({ length: 12 }, () => loginFrom(limited, randomIp(), created.user.email, "wrong password!")),
  );
  assert.deepEqual(results.map((r) => r.status).sort(), [...Array(3).fill(401), ...Array(9).fill(429)]);
});

Deno.test("unknown emails are limited like known ones, and Redis keys hold no email address", async () => {
  await awayFromWindowBoundary(15 * 60_000);
  const config = rateLimits({ loginFailuresPerAccount: { tokens: 2, window: "15 m" } });
  const limited = authHandler(sql, { rateLimits: config });
  const email = uniqueEmail("nobody");
  for (let i = 0; i < 2; i++) {
    assertProblem(await loginFrom(limited, randomIp(), email, PASSWORD), 401, "invalid_credentials");
  }
  assertProblem(await loginFrom(limited, randomIp(), email, PASSWORD), 429, "rate_limited");
  const keys = await liveRedisKeys(`${config.prefix}:login-account:*`);
  assert.ok(keys.length > 0);
  for (const key of keys) {
    assert.doesNotMatch(key, /@|nobody/);
    assert.match(key, /:account:[0-9a-f]{64}:/);
  }
});

Deno.test("IPv6 clients share a per-IP bucket per /64; another /64 has its own", async () => {
  await awayFromWindowBoundary(60_000);
  const limited = authHandler(sql, { rateLimits: rateLimits() });
  const b = crypto.getRandomValues(new Uint16Array(2));
  const net = `2001:db8:${b[0]!.toString(16)}:${b[1]!.toString(16)}`;
  // Five addresses of one /64, in as many spellings, including the IPv4-less long form.
  const sameNet = [
    `${net}::1`,
    `${net}:0:0:0:2`,
    `[${net}::3]:443`,
    `${net.toUpperCase()}::4`,
    `${net}:ffff::5`,
  ];
  for (const ip of sameNet) {
    assertProblem(await loginFrom(limited, ip, uniqueEmail(), PASSWORD), 401, "invalid_credentials");
  }
  assertProblem(await loginFrom(limited, `${net}:abcd::6`, uniqueEmail(), PASSWORD), 429, "rate_limited");
  const nextNet = `2001:db8:${b[0]!.toString(16)}:${((b[1]! + 1) & 0xffff).toString(16)}::1`;
  assertProblem(await loginFrom(limited, nextNet, uniqueEmail(), PASSWORD), 401, "invalid_credentials");
});

Deno.test("the login IP is the last X-Forwarded-For entry: forged entries before it do not help", async () => {
  await awayFromWindowBoundary(60_000);
  const limited = authHandler(sql, { rateLimits: rateLimits() });
  const real = randomIp();
  for (let i = 0; i < 5; i++) {
    const forged = `${randomIp()}, ${randomIp()}, ${real}`;
    assertProblem(await loginFrom(limited, forged, uniqueEmail(), PASSWORD), 401, "invalid_credentials");
  }
  assertProblem(
    await loginFrom(limited, `${randomIp()}, ${real}`, uniqueEmail(), PASSWORD),
    429,
    "rate_limited",
  );
});

async function liveRedisKeys(pattern: string): Promise<string[]> {
  const res = await fetch(UPSTASH_URL, {
    method: "POST",
    headers: { authorization: `Bearer ${UPSTASH_TOKEN}` },
    body: JSON.stringify(["KEYS", pattern]),
  });
  return (await res.json()).result as string[];
}
