// The shared pipeline, in-process: routing, parsing limits, problem documents, headers.
import assert from "node:assert/strict";
import { z } from "zod";
import { createApp, json } from "./app.ts";
import { readJson } from "./body.ts";
import { readPage } from "./pagination.ts";

const app = createApp({
  functionName: "things",
  allowedOrigins: ["https://app.example"],
  routes: [
    { method: "GET", path: "/", handler: () => json({ ok: true }) },
    {
      method: "POST",
      path: "/",
      handler: async ({ req }) =>
        json(await readJson(req, z.strictObject({ name: z.string().min(1).max(50) })), 201),
    },
    { method: "GET", path: "/items/:id", handler: ({ params }) => json({ id: params.id }) },
    { method: "POST", path: "/items/batch", handler: () => json({ batch: true }) },
    {
      method: "GET",
      path: "/pages",
      handler: ({ url }) => json(readPage(url, z.string(), ["kind"])),
    },
    {
      method: "GET",
      path: "/boom",
      handler: () => {
        throw new Error("secret SQL: select * from users");
      },
    },
  ],
});

const call = (path: string, init: RequestInit = {}) => app(new Request(`http://localhost${path}`, init));
const post = (body: BodyInit, contentType = "application/json") =>
  call("/things", { method: "POST", body, headers: { "content-type": contentType } });

async function assertProblem(res: Response, status: number, code: string) {
  assert.equal(res.status, status);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  const body = await res.json();
  assert.equal(body.code, code);
  assert.equal(body.status, status);
  assert.equal(body.type, `/problems/${code}`);
  assert.equal(body.requestId, res.headers.get("x-request-id"));
  return body;
}

Deno.test("routes under /<function> and under the gateway's /functions/v1/<function>", async () => {
  assert.deepEqual(await (await call("/things/items/42")).json(), { id: "42" });
  assert.deepEqual(await (await call("/functions/v1/things/items/42")).json(), { id: "42" });
  assert.equal((await call("/things/")).status, 200);
});

Deno.test("an unknown route is 404 and a wrong method 405 with Allow", async () => {
  await assertProblem(await call("/things/nope"), 404, "not_found");
  const res = await call("/things/items/1", { method: "DELETE" });
  assert.equal(res.headers.get("allow"), "GET");
  await assertProblem(res, 405, "method_not_allowed");
});

Deno.test("a literal route beats a parameter: the wrong method on it is 405, not the parameter's route", async () => {
  assert.deepEqual(await (await call("/things/items/batch", { method: "POST" })).json(), { batch: true });
  const res = await call("/things/items/batch");
  assert.equal(res.headers.get("allow"), "POST");
  await assertProblem(res, 405, "method_not_allowed");
  assert.deepEqual(await (await call("/things/items/batches")).json(), { id: "batches" });
});

Deno.test("a malformed percent-escape in a path parameter is 404, a well-formed one is decoded", async () => {
  for (const bad of ["%E0%A4%A", "%ff", "%", "a%2"]) {
    await assertProblem(await call(`/things/items/${bad}`), 404, "not_found");
    await assertProblem(await call(`/functions/v1/things/items/${bad}`), 404, "not_found");
  }
  await assertProblem(await call("/things/items/%ff", { method: "DELETE" }), 404, "not_found");
  assert.deepEqual(await (await call("/things/items/a%20b%C3%A9")).json(), { id: "a bé" });
});

Deno.test("query parameter problems name the parameter, unknown ones included", async () => {
  const paths = async (query: string) => {
    const body = await assertProblem(await call(`/things/pages?${query}`), 400, "validation_failed");
    return body.errors.map((e: { path: string }) => e.path).sort();
  };
  assert.deepEqual(await paths("foo=1"), ["foo"]);
  assert.deepEqual(await paths("limit=5&foo=1&bar=2"), ["bar", "foo"]);
  assert.deepEqual(await paths("limit=0"), ["limit"]);
  assert.deepEqual(await paths("__proto__=1&constructor=2"), ["__proto__", "constructor"]);
  assert.deepEqual(await (await call("/things/pages?limit=5&kind=x")).json(), { limit: 5, after: null });
});

Deno.test("invalid JSON is 400 invalid_json", async () => {
  await assertProblem(await post("{not json"), 400, "invalid_json");
  await assertProblem(await post(new Uint8Array([0x7b, 0xff, 0x7d])), 400, "invalid_json");
});

Deno.test("a body that is not JSON is 415", async () => {
  await assertProblem(
    await post("name=x", "application/x-www-form-urlencoded"),
    415,
    "unsupported_media_type",
  );
  await assertProblem(
    await call("/things", { method: "POST", body: '{"name":"x"}' }),
    415,
    "unsupported_media_type",
  );
});

Deno.test("a 2 MiB body is 413, whether or not Content-Length says so", async () => {
  const big = JSON.stringify({ name: "x".repeat(2 * 1024 * 1024) });
  await assertProblem(await post(big), 413, "payload_too_large");
  const stream = new Blob([big]).stream();
  await assertProblem(
    await call("/things", { method: "POST", body: stream, headers: { "content-type": "application/json" } }),
    413,
    "payload_too_large",
  );
});

Deno.test("validation failures list each field; unknown fields are refused", async () => {
  const body = await assertProblem(await post('{"name":"","extra":1}'), 400, "validation_failed");
  const paths = body.errors.map((e: { path: string }) => e.path).sort();
  assert.deepEqual(paths, ["(body)", "name"]);
  await assertProblem(await post("[]"), 400, "validation_failed");
  assert.equal((await post('{"name":"ok"}')).status, 201);
});

Deno.test("an unexpected error is a 500 without its message", async () => {
  const body = await assertProblem(await call("/things/boom"), 500, "internal");
  assert.doesNotMatch(JSON.stringify(body), /secret|select/);
});

Deno.test("request ids are echoed when sane and made up otherwise", async () => {
  assert.equal(
    (await call("/things", { headers: { "x-request-id": "req-12345678" } })).headers.get("x-request-id"),
    "req-12345678",
  );
  const made = (await call("/things", { headers: { "x-request-id": "bad id\twith tabs" } })).headers.get(
    "x-request-id",
  );
  assert.match(made!, /^[0-9a-f-]{36}$/);
});

Deno.test("security headers and CORS for allowed origins only", async () => {
  const res = await call("/things", { headers: { origin: "https://app.example" } });
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example");
  const other = await call("/things", { headers: { origin: "https://evil.example" } });
  assert.equal(other.headers.get("access-control-allow-origin"), null);
  const preflight = await call("/things", { method: "OPTIONS", headers: { origin: "https://app.example" } });
  assert.equal(preflight.status, 204);
  assert.match(preflight.headers.get("access-control-allow-headers")!, /authorization/);
});

Deno.test("database refusals a client can cause are 400; collisions are a retryable 503", async () => {
  const failing = (code: string) =>
    createApp({
      functionName: "things",
      routes: [{
        method: "GET",
        path: "/",
        handler: () => {
          throw Object.assign(new Error("db"), { code });
        },
      }],
    });
  for (const code of ["22021", "22P05", "22008", "22007"]) {
    await assertProblem(
      await failing(code)(new Request("http://localhost/things")),
      400,
      "validation_failed",
    );
  }
  for (const code of ["40P01", "40001"]) {
    const res = await failing(code)(new Request("http://localhost/things"));
    assert.equal(res.headers.get("retry-after"), "1");
    await assertProblem(res, 503, "unavailable");
  }
});
