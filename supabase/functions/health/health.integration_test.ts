// Health against real dependencies that the test stops and starts itself.
import assert from "node:assert/strict";
import { createHealthHandler } from "./handler.ts";
import type { Redis } from "@upstash/redis";
import { createSql, type Sql } from "../_shared/infra/db.ts";
import { DATABASE_URL } from "../../../tests/support.ts";
import { freePort, ownRedis } from "../../../tests/local_redis.ts";

const get = () => new Request("http://localhost/health");

Deno.test("health is 503 with redis down while Redis is stopped, and 200 again when it is back", async () => {
  const redis = await ownRedis();
  const sql = createSql(DATABASE_URL, 2);
  const client = redis.client();
  const handler = createHealthHandler({ sql: () => sql, redis: () => client });
  try {
    let res = await handler(get());
    assert.equal(res.status, 200);
    assert.deepEqual(
      { ...(await res.json()), time: "", version: "" },
      { status: "ok", database: "ok", redis: "ok", time: "", version: "" },
    );

    await redis.stop();
    res = await handler(get());
    assert.equal(res.status, 503);
    const down = await res.json();
    assert.equal(down.redis, "down");
    assert.equal(down.database, "ok");

    await redis.restart();
    res = await handler(get());
    assert.equal(res.status, 200);
    assert.equal((await res.json()).redis, "ok");
  } finally {
    await sql.end();
    await redis.close();
  }
});

Deno.test("health is 503 with database down when Postgres does not answer", async () => {
  const redis = await ownRedis();
  const sql = createSql(`postgres://postgres@127.0.0.1:${freePort()}/postgres`, 1);
  const client = redis.client();
  const handler = createHealthHandler({ sql: () => sql, redis: () => client });
  try {
    const res = await handler(get());
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.database, "down");
    assert.equal(body.redis, "ok");
    assert.match(body.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  } finally {
    await sql.end();
    await redis.close();
  }
});

Deno.test("a dependency that is busy (no answer by the deadline, but answering recently) is slow, not down", async () => {
  const timings = { deadlineMs: 20, slowMs: 10, recentMs: 60_000 };
  let release: () => void = () => {};
  let calls = 0;
  let hang = false;
  const sql = (() => {
    calls++;
    return hang ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
  }) as unknown as Sql;
  const handler = createHealthHandler({
    sql: () => sql,
    redis: () => ({ ping: () => Promise.resolve("PONG") }) as unknown as Redis,
    timings,
  });
  let res = await handler(get());
  assert.equal((await res.json()).database, "ok");

  hang = true; // the database is saturated: the probe waits
  const [a, b] = await Promise.all([handler(get()), handler(get())]);
  assert.equal(a.status, 200, "busy is not down");
  assert.deepEqual([(await a.json()).status, (await b.json()).database], ["busy", "slow"]);
  assert.equal(calls, 2, "concurrent checks share one probe");
  release();

  res = await handler(get());
  assert.equal((await res.json()).status, "busy", "the late answer counts as slow");
});

Deno.test("a dependency that never answered by the deadline is down", async () => {
  const handler = createHealthHandler({
    sql: () => (() => new Promise(() => {})) as unknown as Sql,
    redis: () => ({ ping: () => Promise.resolve("PONG") }) as unknown as Redis,
    timings: { deadlineMs: 20, slowMs: 10, recentMs: 60_000 },
  });
  const res = await handler(get());
  assert.equal(res.status, 503);
  assert.equal((await res.json()).database, "down");
});
