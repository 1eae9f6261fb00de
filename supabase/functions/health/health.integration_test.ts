// Health against real dependencies that the test stops and starts itself.
import assert from "node:assert/strict";
import { createHealthHandler } from "./handler.ts";
import { createSql } from "../_shared/infra/db.ts";
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
