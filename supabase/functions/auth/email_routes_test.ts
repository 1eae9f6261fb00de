// Password-reset limits in-process, against the real local Postgres and Upstash endpoint.
import assert from "node:assert/strict";
import { testSql } from "../../../tests/support.ts";
import {
  authHandler,
  awayFromWindowBoundary,
  deadRedis,
  randomIp,
  rateLimits,
  send,
  uniqueEmail,
} from "./handler_test_support.ts";

const sql = testSql(5);
globalThis.addEventListener("unload", () => void sql.end());

Deno.test("password reset: 3 an hour per IP, then 429", async () => {
  await awayFromWindowBoundary(3_600_000);
  const auth = authHandler(sql, { rateLimits: rateLimits() });
  const ip = randomIp();
  const statuses = [];
  for (let i = 0; i < 4; i++) {
    const res = await send(auth, {
      path: "/password-reset",
      body: { email: uniqueEmail() },
      headers: { "x-forwarded-for": ip },
    });
    statuses.push(res.status);
  }
  assert.deepEqual(statuses, [202, 202, 202, 429]);
});

Deno.test("password reset: 3 an hour per address, whatever the IP", async () => {
  await awayFromWindowBoundary(3_600_000);
  const auth = authHandler(sql, { rateLimits: rateLimits() });
  const email = uniqueEmail();
  const statuses = [];
  for (let i = 0; i < 4; i++) {
    statuses.push((await send(auth, { path: "/password-reset", body: { email } })).status);
  }
  assert.deepEqual(statuses, [202, 202, 202, 429]);
});

Deno.test("password reset answers a known and an unknown address alike", async () => {
  const auth = authHandler(sql);
  const email = uniqueEmail();
  assert.equal(
    (await send(auth, { path: "/signup", body: { email, password: "correct horse battery" } })).status,
    201,
  );
  const known = await send(auth, { path: "/password-reset", body: { email } });
  const unknown = await send(auth, { path: "/password-reset", body: { email: uniqueEmail() } });
  assert.deepEqual([known.status, known.body], [unknown.status, unknown.body]);
  assert.equal(known.status, 202);
});

Deno.test("password reset fails closed (503) when Redis is down", async () => {
  const auth = authHandler(sql, { rateLimits: rateLimits(), redis: deadRedis() });
  const res = await send(auth, { path: "/password-reset", body: { email: uniqueEmail() } });
  assert.equal(res.status, 503);
});
