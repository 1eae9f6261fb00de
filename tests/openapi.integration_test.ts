// Real answers of the happy paths (and a few refusals) through the local gateway, validated against the
// committed openapi.json by an independent validator (Ajv, JSON Schema 2020-12, with ajv-formats): the
// status must be one the operation documents, the media type the one it names, the body must match its
// schema, and a rate-limited route must send the RateLimit headers it promises.
import assert from "node:assert/strict";
import { fetchFrom, fn, loopbackIp, testSql } from "./support.ts";
import { nonConformance, openApi as document, parseBody } from "./openapi_support.ts";

const PASSWORD = "correct horse battery staple";

type Answer = { status: number; headers: Headers; body: unknown };

/** Calls `method path` (path in the document's form with the values filled in) and checks the answer
 * against the operation `docPath` of the document. */
async function call(
  method: string,
  docPath: string,
  path: string,
  init: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await fetchFrom(loopbackIp(), fn(path), {
    method,
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  const problem = nonConformance(method, docPath, res.status, res.headers, text);
  assert.equal(problem, null, `${method} ${path}: ${problem}`);
  return { status: res.status, headers: res.headers, body: parseBody(res.headers, text) };
}

type Json = Record<string, unknown>;

Deno.test("openapi: real answers of every user route's happy path conform to the document", async () => {
  const email = `openapi-${crypto.randomUUID()}@example.com`;
  const signup = await call("POST", "/auth/signup", "auth/signup", { body: { email, password: PASSWORD } });
  assert.equal(signup.status, 201);
  const token = (signup.body as Json).accessToken as string;
  const refreshed = await call("POST", "/auth/refresh", "auth/refresh", {
    body: { refreshToken: (signup.body as Json).refreshToken },
  });
  assert.equal(refreshed.status, 200);
  const login = await call("POST", "/auth/login", "auth/login", { body: { email, password: PASSWORD } });
  assert.equal(login.status, 200);

  for (const path of ["auth/me", "account", "account/ledger", "account/contracts", "account/network"]) {
    assert.equal((await call("GET", `/${path}`, path, { token })).status, 200, path);
  }
  for (const path of ["account/notifications", "purchases", "withdrawals", "kyc"]) {
    assert.equal((await call("GET", `/${path}`, path, { token })).status, 200, path);
  }
  const put = await call("PUT", "/account/notifications", "account/notifications", {
    token,
    body: { commissionDigest: false },
  });
  assert.equal(put.status, 200);
  assert.equal((await call("GET", "/packages", "packages")).status, 200);
  assert.equal((await call("GET", "/health", "health")).status, 200);
  const served = await call("GET", "/openapi", "openapi");
  assert.equal(served.status, 200);
  assert.equal(served.headers.get("cache-control"), "public, max-age=300");
  assert.deepEqual(served.body, document, "the served document is the committed openapi.json");
  assert.equal((await call("POST", "/auth/logout", "auth/logout", { token })).status, 204);
});

Deno.test("openapi: admin routes and a purchase conform to the document", async () => {
  const sql = testSql(1);
  try {
    const email = `openapi-admin-${crypto.randomUUID()}@example.com`;
    await call("POST", "/auth/signup", "auth/signup", { body: { email, password: PASSWORD } });
    await sql`select private.promote_to_admin(${email})`;
    const login = await call("POST", "/auth/login", "auth/login", { body: { email, password: PASSWORD } });
    const admin = (login.body as Json).accessToken as string;
    const user = (login.body as Json).user as Json;

    const published = await call("POST", "/admin/packages", "admin/packages", {
      token: admin,
      body: { name: "OpenAPI 30", priceMinor: 5000, currency: "USD", dailyRateBps: 100, durationDays: 30 },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    assert.equal(published.status, 201);
    const packageId = (published.body as Json).id as string;
    const bought = await call("POST", "/purchases", "purchases", {
      token: admin,
      body: { packageId },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    assert.equal(bought.status, 201);

    for (const path of ["admin/users", "admin/kyc", "admin/withdrawals", "admin/earnings-runs"]) {
      assert.equal((await call("GET", `/${path}`, `${path}?limit=5`, { token: admin })).status, 200, path);
    }
    const one = await call("GET", "/admin/users/{id}", `admin/users/${user.id}`, { token: admin });
    assert.equal(one.status, 200);
    // A CSV body is not JSON: its status and media type are checked, and that it is complete.
    const csv = await call("GET", "/admin/users.csv", `admin/users.csv?search=${encodeURIComponent(email)}`, {
      token: admin,
    });
    assert.equal(csv.status, 200);
    assert.match(String(csv.body), /#end,1/);
    const retired = await call("POST", "/admin/packages/{id}/retire", `admin/packages/${packageId}/retire`, {
      token: admin,
    });
    assert.equal(retired.status, 200);
  } finally {
    await sql.end();
  }
});

Deno.test("openapi: refusals are documented problem details with their codes", async () => {
  assert.equal((await call("GET", "/auth/me", "auth/me")).status, 401);
  const bad = await call("POST", "/auth/signup", "auth/signup", { body: { email: "not an email" } });
  assert.equal(bad.status, 400);
  assert.equal((bad.body as Json).code, "validation_failed");
  const notJson = await call("POST", "/auth/login", "auth/login", {
    headers: { "content-type": "text/plain" },
  });
  assert.equal(notJson.status, 415);
  const user = await call("POST", "/auth/signup", "auth/signup", {
    body: { email: `openapi-${crypto.randomUUID()}@example.com`, password: PASSWORD },
  });
  const token = (user.body as Json).accessToken as string;
  assert.equal((await call("GET", "/admin/users", "admin/users", { token })).status, 403);
  const badQuery = await call("GET", "/purchases", "purchases?limit=0", { token });
  assert.equal(badQuery.status, 400);
});
