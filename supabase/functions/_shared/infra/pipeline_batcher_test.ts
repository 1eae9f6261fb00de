// The batching transport against a real redis-server behind the local Upstash endpoint (owned by the
// test): concurrent pipelines go out merged, each caller gets its own answers and errors, transactions
// are never merged, and the limits built on it stay exact and fail open or closed as before.
import assert from "node:assert/strict";
import { freePort, ownRedis } from "../../../../tests/local_redis.ts";
import { awayFromWindowBoundary } from "../../../../tests/support.ts";
import { createLimiter } from "../http/ratelimit.ts";
import { Problem } from "../http/problem.ts";
import { BatchedRedis } from "./redis.ts";

const batching = { maxInFlight: 1, maxCommands: 1000 };
const newClient = (url: string, token: string) =>
  new BatchedRedis({ url, token, retry: { retries: 0 }, enableTelemetry: false }, batching);

/** Each call in its own macrotask, as requests arrive: auto-pipelining alone would send one request each. */
function apart<T>(count: number, call: (i: number) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  return Promise.allSettled(
    Array.from({ length: count }, (_, i) => new Promise<void>((r) => setTimeout(r, 0)).then(() => call(i))),
  );
}

async function endpointRequests(url: string): Promise<number> {
  const stats = await (await fetch(`${url}/_local/stats`)).json() as { requests: number };
  return stats.requests;
}

Deno.test("concurrent pipelines go out merged, and each caller gets its own answers", async () => {
  const redis = await ownRedis();
  try {
    const client = newClient(redis.url, redis.token);
    const before = await endpointRequests(redis.url);
    const key = `batch:${crypto.randomUUID()}`;
    const outcomes = await apart(200, (i) => Promise.all([client.incr(key), client.set(`${key}:${i}`, i)]));
    const values = outcomes.map((o) => {
      assert.equal(o.status, "fulfilled");
      return (o as PromiseFulfilledResult<[number, unknown]>).value;
    });
    // Every INCR answered once, with its own count: 1..200 with no gaps or repeats.
    assert.deepEqual(values.map(([count]) => count).sort((a, b) => a - b), values.map((_, i) => i + 1));
    for (const [, set] of values) assert.equal(set, "OK");
    assert.equal(await client.get(`${key}:137`), 137);
    const requests = (await endpointRequests(redis.url)) - before;
    assert.equal(client.batcher.stats.callers, 201);
    assert.ok(requests < 100, `200 callers took ${requests} endpoint requests`);
  } finally {
    await redis.close();
  }
});

Deno.test("a command that fails inside a merged pipeline fails only its own caller", async () => {
  const redis = await ownRedis();
  try {
    const client = newClient(redis.url, redis.token);
    const text = `batch:${crypto.randomUUID()}`;
    await client.set(text, "not a number");
    // INCR of a text value: Redis answers an error for that one command, the pipeline still runs.
    const outcomes = await apart(50, (i) => i === 25 ? client.incr(text) : client.incr(`${text}:${i}`));
    assert.equal(outcomes.filter((o) => o.status === "rejected").length, 1);
    assert.equal(outcomes[25]?.status, "rejected");
    // A command the endpoint refuses outright makes it refuse the whole pipeline: the others are resent
    // alone, so only the caller of the bad command fails.
    const before = client.batcher.stats.resentAlone;
    const refused = await apart(
      50,
      (i) =>
        i === 10
          ? client.batcher.request({ path: ["pipeline"], body: [["SELECT", "1"]] }).then((items) => {
            throw new Error(`SELECT was answered ${JSON.stringify(items)}`);
          })
          : client.incr(`${text}:refused:${i}`),
    );
    const failed = refused.flatMap((o, i) => o.status === "rejected" ? [i] : []);
    assert.deepEqual(failed, [10]);
    assert.ok(client.batcher.stats.resentAlone > before, "the refused pipeline was merged with others");
  } finally {
    await redis.close();
  }
});

Deno.test("transactions and single commands are never merged", async () => {
  const redis = await ownRedis();
  try {
    const client = newClient(redis.url, redis.token);
    const key = `batch:${crypto.randomUUID()}`;
    const results = await apart(20, () => client.multi().incr(key).incr(key).exec<[number, number]>());
    for (const o of results) assert.equal(o.status, "fulfilled");
    // Each transaction's two increments are consecutive: nothing ran between them.
    for (const o of results) {
      const [a, b] = (o as PromiseFulfilledResult<[number, number]>).value;
      assert.equal(b, a + 1);
    }
    assert.equal(client.batcher.stats.callers, 0);
  } finally {
    await redis.close();
  }
});

Deno.test("1,000 concurrent checks against a limit of 100 admit exactly 100 through merged pipelines", async () => {
  const redis = await ownRedis();
  try {
    const client = newClient(redis.url, redis.token);
    const limiter = createLimiter({
      redis: () => client,
      name: `exact-${crypto.randomUUID()}`,
      rule: { tokens: 100, window: "1 m" },
      failMode: "closed",
      config: { enabled: true, prefix: "test", timeoutMs: 30_000 },
    });
    await awayFromWindowBoundary(60_000);
    const before = await endpointRequests(redis.url);
    const outcomes = await apart(1000, () => limiter.check("one-client"));
    const admitted = outcomes.filter((o) => o.status === "fulfilled").length;
    const refused = outcomes.filter((o) =>
      o.status === "rejected" && o.reason instanceof Problem && o.reason.status === 429
    ).length;
    // Started away from the window's edge, so the sliding window cannot roll over during the run.
    assert.equal(admitted, 100);
    assert.equal(refused, 900);
    assert.ok((await endpointRequests(redis.url)) - before < 1000, "the checks went out merged");
  } finally {
    await redis.close();
  }
});

Deno.test("Redis down behind the endpoint, or the endpoint gone: limits fail open or closed as before", async () => {
  const redis = await ownRedis();
  const rule = { tokens: 5, window: "1 m" as const };
  const config = { enabled: true, prefix: `test:${crypto.randomUUID()}`, timeoutMs: 5_000 };
  try {
    const client = newClient(redis.url, redis.token);
    const closed = createLimiter({ redis: () => client, name: "closed", rule, failMode: "closed", config });
    const open = createLimiter({ redis: () => client, name: "open", rule, failMode: "open", config });
    await redis.stop();
    const refused = await apart(30, () => closed.check("ip:1.2.3.4"));
    for (const o of refused) {
      assert.ok(o.status === "rejected" && o.reason instanceof Problem && o.reason.status === 503);
    }
    const let_through = await apart(30, () => open.check("ip:1.2.3.4"));
    for (const o of let_through) assert.deepEqual(o.status === "fulfilled" && o.value, {});
    await redis.restart();
    assert.ok((await closed.check("ip:1.2.3.4"))["RateLimit-Remaining"], "counting again after restart");
  } finally {
    await redis.close();
  }
  const gone = newClient(`http://127.0.0.1:${freePort()}`, "x");
  const closed = createLimiter({ redis: () => gone, name: "gone", rule, failMode: "closed", config });
  const outcomes = await apart(30, () => closed.check("ip:1.2.3.4"));
  for (const o of outcomes) {
    assert.ok(o.status === "rejected" && o.reason instanceof Problem && o.reason.status === 503);
  }
});
