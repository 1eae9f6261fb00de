// Garbage through the real gateway at every function: always the right 4xx problem document, never a 500.
import assert from "node:assert/strict";
import { fetchFrom, fn, loopbackIp } from "./support.ts";

/** Every route that takes a JSON body. Add new ones here. */
const JSON_ROUTES = [
  "auth/signup",
  "auth/login",
  "auth/refresh",
  "auth/password-reset",
  "auth/password-reset/confirm",
  "auth/verify-email",
];
/** Routes that take a JSON body from a signed-in user (the test signs up one). Add new ones here. */
const USER_JSON_ROUTES = ["purchases", "auth/password"];
const FUNCTIONS = [
  "health",
  "auth",
  "account",
  "withdrawals",
  "packages",
  "purchases",
  "stripe-webhook",
  "kyc",
  "admin",
  "email",
  "email-webhook",
];

async function expectProblem(res: Response, status: number, code: string) {
  const text = await res.text();
  assert.equal(res.status, status, `${res.url}: ${text}`);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  assert.equal(JSON.parse(text).code, code);
  assert.ok(res.headers.get("x-request-id"));
}

for (const route of JSON_ROUTES) {
  Deno.test(`POST ${route} with garbage gets 4xx problems`, async () => {
    const post = (body: BodyInit, type = "application/json") =>
      fetchFrom(loopbackIp(), fn(route), { method: "POST", body, headers: { "content-type": type } });
    await expectProblem(await post("{oops"), 400, "invalid_json");
    await expectProblem(await post("hello", "text/plain"), 415, "unsupported_media_type");
    await expectProblem(
      await post(JSON.stringify({ x: "y".repeat(2 * 1024 * 1024) })),
      413,
      "payload_too_large",
    );
    await expectProblem(await post("null"), 400, "validation_failed");
  });
}

for (const route of USER_JSON_ROUTES) {
  Deno.test(`POST ${route} with garbage from a signed-in user gets 4xx problems`, async () => {
    const ip = loopbackIp();
    const signup = await fetchFrom(ip, fn("auth/signup"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        email: `edge-${crypto.randomUUID()}@example.com`,
        password: "correct horse battery staple",
      }),
    });
    const { accessToken } = await signup.json();
    const post = (body: BodyInit, type = "application/json") =>
      fetchFrom(ip, fn(route), {
        method: "POST",
        body,
        headers: { "content-type": type, authorization: `Bearer ${accessToken}` },
      });
    await expectProblem(await post("{oops"), 400, "invalid_json");
    await expectProblem(await post("hello", "text/plain"), 415, "unsupported_media_type");
    await expectProblem(
      await post(JSON.stringify({ x: "y".repeat(2 * 1024 * 1024) })),
      413,
      "payload_too_large",
    );
    await expectProblem(await post("null"), 400, "validation_failed");
  });
}

for (const name of FUNCTIONS) {
  Deno.test(`${name}: an unknown route is 404`, async () => {
    await expectProblem(await fetch(fn(`${name}/no/such/route`)), 404, "not_found");
  });
}

Deno.test("a malformed percent-escape in a path parameter is 404 at every parameterised route, token or not", async () => {
  for (const path of ["admin/kyc/%E0%A4%A", "admin/kyc/%ff/decision", "kyc/documents/%ff/a/b"]) {
    await expectProblem(await fetch(fn(path)), 404, "not_found");
  }
  await expectProblem(await fetch(fn("admin/kyc/%E0%A4%A/decision"), { method: "POST" }), 404, "not_found");
  await expectProblem(
    await fetch(fn("admin/packages/%E0%A4%A/retire"), { method: "POST" }),
    404,
    "not_found",
  );
  await expectProblem(
    await fetch(fn("admin/withdrawals/%ff/decision"), { method: "POST" }),
    404,
    "not_found",
  );
});

Deno.test("GET /admin/kyc/decisions is 405 with Allow: POST, not a case id", async () => {
  const res = await fetch(fn("admin/kyc/decisions"));
  assert.equal(res.headers.get("allow"), "POST");
  await expectProblem(res, 405, "method_not_allowed");
});

Deno.test("an unknown function is 404", async () => {
  await expectProblem(await fetch(fn("nope")), 404, "not_found");
});

Deno.test("health through the gateway answers as the contract says", async () => {
  const res = await fetch(fn("health"));
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(Object.keys(body).sort(), ["database", "redis", "status", "time", "version"]);
  assert.equal(body.status, "ok");
});
