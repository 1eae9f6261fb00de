// Drives the local Upstash REST proxy with the real, unmodified clients
// against a throwaway redis-server on a free port.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Redis } from "@upstash/redis";
import { Ratelimit } from "@upstash/ratelimit";
import { createUpstashProxy } from "./upstash_proxy.ts";
import { freePort, startRedis, stopRedis, waitFor } from "../tests/local_redis.ts";
import { awayFromWindowBoundary } from "../tests/support.ts";

const TOKEN = "test-token";
const sha1 = (text: string) => createHash("sha1").update(text, "utf8").digest("hex");

async function redisCli(port: number, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("redis-cli", { args: ["-p", String(port), ...args] }).output();
  return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
}

Deno.test("upstash REST proxy over a real redis-server", async (t) => {
  const redisPort = freePort();
  let redisProcess = await startRedis(redisPort);
  const proxy = createUpstashProxy({ redisUrl: `redis://127.0.0.1:${redisPort}`, token: TOKEN });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, proxy.handler);
  const url = `http://127.0.0.1:${server.addr.port}`;
  const redis = new Redis({ url, token: TOKEN, enableTelemetry: false });
  // Same server, but every command is its own POST / (no auto-pipelining).
  const direct = new Redis({ url, token: TOKEN, enableTelemetry: false, enableAutoPipelining: false });

  async function raw(
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: unknown }> {
    const res = await fetch(url + path, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }
  const b64 = { "Upstash-Encoding": "base64" };

  try {
    await t.step("set/get and null results", async () => {
      assert.equal(await redis.set("greeting", "hello"), "OK");
      assert.equal(await redis.get("greeting"), "hello");
      assert.equal(await redis.get("missing"), null);
      assert.equal(await direct.get("missing"), null);
      // The client throws if `result` is absent, so null must be an explicit key.
      assert.deepEqual(await raw("/", ["GET", "missing"]), { status: 200, body: { result: null } });
      await redis.set("obj", { a: 1, b: [true, null] });
      assert.deepEqual(await redis.get("obj"), { a: 1, b: [true, null] });
      // HGETALL must stay a flat array on the wire; the client builds the object.
      await redis.hset("hash", { field: "x", n: 7 });
      assert.deepEqual(await redis.hgetall("hash"), { field: "x", n: 7 });
      assert.deepEqual(await redis.mget("greeting", "missing"), ["hello", null]);
    });

    await t.step("unicode and binary values, base64 encoding", async () => {
      const value = 'héllo wörld 🚀 日本語 "quoted" \\ \u0001 tab\t newline\n';
      await redis.set("unicode", value);
      assert.equal(await redis.get("unicode"), value);
      assert.equal(await direct.get("unicode"), value);
      const plain = new Redis({ url, token: TOKEN, enableTelemetry: false, responseEncoding: false });
      assert.equal(await plain.get("unicode"), value);
      await redis.rpush("list", "å", "b", "🚀");
      assert.deepEqual(await redis.lrange("list", 0, -1), ["å", "b", "🚀"]);

      await raw("/", ["SET", "bar", "bar"]);
      assert.deepEqual((await raw("/", ["GET", "bar"], b64)).body, { result: "YmFy" });
      assert.deepEqual((await raw("/", ["SET", "k", "v"], b64)).body, { result: "OK" });
      assert.deepEqual((await raw("/", ["INCR", "counter"], b64)).body, { result: 1 });
      assert.deepEqual((await raw("/", ["LRANGE", "list", 0, -1], b64)).body, {
        result: ["w6U=", "Yg==", "8J+agA=="],
      });
      // Raw bytes survive: "\u00ff" is stored as c3 bf; byte 1 alone is not UTF-8.
      await raw("/", ["SET", "bin", "\u00ff"]);
      assert.deepEqual((await raw("/", ["GETRANGE", "bin", 1, 1], b64)).body, { result: "vw==" });
      assert.deepEqual((await raw("/", ["GETRANGE", "bin", 1, 1])).body, { result: "\uFFFD" });
      // Only a top-level "OK" is left plain; inside arrays the client base64-decodes everything.
      const nestedOk = await raw("/", ["EVAL", "return {redis.status_reply('OK'), 5, false}", 0], b64);
      assert.deepEqual(nestedOk.body, { result: ["T0s=", 5, null] });
    });

    await t.step("pipeline", async () => {
      const p = redis.pipeline();
      p.set("p:str", "a");
      p.incr("p:num");
      p.get("p:str");
      p.incr("p:str");
      p.get("p:missing");
      const results = await p.exec({ keepErrors: true });
      assert.deepEqual(results.map((r) => r.result).slice(0, 3), ["OK", 1, "a"]);
      assert.match(String(results[3]?.error), /not an integer/);
      assert.equal(results[4]?.result, null);
      await assert.rejects(redis.pipeline().incr("p:str").exec(), /Command 1 \[ incr \] failed/);

      const res = await raw("/pipeline", [["SET", "p:x", "1"], ["INCR", "p:str"], ["GET", "p:nope"]]);
      assert.equal(res.status, 200);
      const items = res.body as Record<string, unknown>[];
      assert.deepEqual(items[0], { result: "OK" });
      assert.match(String(items[1]?.error), /^ERR value is not an integer/);
      assert.deepEqual(items[2], { result: null });
    });

    await t.step("multi-exec", async () => {
      const results = await redis.multi().set("m:a", "x").incr("m:n").get("m:a").get("m:none").exec();
      assert.deepEqual(results, ["OK", 1, "x", null]);
      // A runtime error inside EXEC is per command; the others still run.
      const partial = await raw("/multi-exec", [["SET", "m:s", "v"], ["INCR", "m:s"], ["GET", "m:s"]], b64);
      assert.equal(partial.status, 200);
      const items = partial.body as Record<string, unknown>[];
      assert.deepEqual(items[0], { result: "OK" });
      assert.match(String(items[1]?.error), /not an integer/);
      assert.deepEqual(items[2], { result: "dg==" });
      // A queueing error discards the whole transaction: single {error}, nothing ran.
      const aborted = await raw("/multi-exec", [["SET", "m:never", "1"], ["NOSUCHCOMMAND"]]);
      assert.equal(aborted.status, 400);
      assert.match(String((aborted.body as { error: string }).error), /EXECABORT.*unknown command/);
      assert.equal(await redis.get("m:never"), null);
      await assert.rejects(redis.multi().set("m:b", 1).incr("m:a").exec(), /Command 2 \[ incr \] failed/);
    });

    await t.step("auth: wrong or missing token is 401", async () => {
      const wrong = new Redis({ url, token: "nope", enableTelemetry: false, retry: false });
      await assert.rejects(wrong.get("greeting"), /Unauthorized/);
      const res = await fetch(url, { method: "POST", body: '["PING"]' });
      assert.deepEqual({ status: res.status, body: await res.json() }, {
        status: 401,
        body: { error: "Unauthorized" },
      });
      assert.equal((await raw("/", ["PING"], { authorization: "Bearer nope" })).status, 401);
    });

    await t.step("redis errors are {error} with status 400", async () => {
      assert.deepEqual(await raw("/", ["GET"]), {
        status: 400,
        body: { error: "ERR wrong number of arguments for 'get' command" },
      });
      assert.equal((await raw("/", ["NOSUCHCOMMAND"])).status, 400);
      await direct.set("e:str", "abc");
      await assert.rejects(direct.incr("e:str"), /ERR value is not an integer.*command was/);
      await assert.rejects(redis.incr("e:str"), /ERR value is not an integer/);
      // Commands that would change the shared connection's state are refused.
      const select = await raw("/", ["SELECT", 1]);
      assert.equal(select.status, 400);
      assert.match(String((select.body as { error: string }).error), /not supported/);
      assert.equal((await raw("/", "not json")).status, 400);
      assert.equal((await raw("/", { not: "an array" })).status, 400);
      assert.equal((await raw("/", "[" + '"x",'.repeat(3_000_000) + '"x"]')).status, 413);
      assert.equal((await raw("/nope", ["PING"])).status, 404);
      const get = await fetch(url + "/pipeline", { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.deepEqual({ status: get.status, body: await get.json() }, {
        status: 405,
        body: { error: "Method Not Allowed" },
      });
      const health = await fetch(url);
      assert.deepEqual({ status: health.status, body: await health.json() }, {
        status: 200,
        body: { result: "PONG" },
      });
    });

    await t.step("scripts with the allow-key-locking shebang", async () => {
      const script = '#!lua flags=allow-key-locking\nreturn redis.call("INCR", KEYS[1])';
      // Stock Redis 7 refuses the flag, which is why the proxy rewrites it.
      assert.match(await redisCli(redisPort, "EVAL", script, "1", "s:k"), /Unexpected flag/);

      const sha = sha1(script);
      await assert.rejects(direct.evalsha(sha, ["s:k"], []), /NOSCRIPT/);
      // createScript: EVALSHA -> NOSCRIPT -> EVAL fallback, then EVALSHA hits.
      const s = redis.createScript<number>(script);
      assert.equal(await s.exec(["s:k"], []), 1);
      assert.equal(await redis.evalsha(sha, ["s:k"], []), 2);
      assert.equal(await direct.evalsha(sha.toUpperCase(), ["s:k"], []), 3);
      assert.deepEqual(await redis.scriptExists(sha, "0".repeat(40)), [1, 0]);

      // SCRIPT LOAD returns the hash of the script as sent (clients compute it themselves).
      const loaded = "#!lua flags=allow-key-locking\nreturn ARGV[1] .. '!'";
      assert.equal(await redis.scriptLoad(loaded), sha1(loaded));
      assert.equal(await redis.evalsha(sha1(loaded), [], ["hi"]), "hi!");

      // Known flags are kept: no-writes scripts run through the *_RO variants.
      const ro = "#!lua flags=no-writes,allow-key-locking\nreturn redis.call('GET', KEYS[1])";
      assert.equal(await redis.evalRo(ro, ["s:k"], []), 3);
      assert.equal(await redis.evalshaRo(sha1(ro), ["s:k"], []), 3);
      const writeInRo = "#!lua flags=no-writes,allow-key-locking\nreturn redis.call('INCR', KEYS[1])";
      await assert.rejects(redis.evalRo(writeInRo, ["s:k"], []), /Write commands are not allowed/);
    });

    await t.step("ratelimit admits exactly the limit under concurrency", async () => {
      await awayFromWindowBoundary(60_000);
      for (
        const [name, limiter] of [
          ["fixedWindow", Ratelimit.fixedWindow(100, "60 s")],
          ["slidingWindow", Ratelimit.slidingWindow(100, "60 s")],
        ] as const
      ) {
        // No ephemeral cache: every call must reach redis.
        const ratelimit = new Ratelimit({ redis, limiter, prefix: `rl:${name}`, ephemeralCache: false });
        for (const identifier of ["first", "second"]) { // second round runs on EVALSHA
          const results = await Promise.all(Array.from({ length: 300 }, () => ratelimit.limit(identifier)));
          assert.equal(results.filter((r) => r.reason === "timeout").length, 0, name);
          assert.equal(results.filter((r) => r.success).length, 100, `${name}/${identifier}`);
          assert.equal(Math.min(...results.map((r) => r.remaining)), 0, name);
        }
      }
      // The client's own hash of its fixedWindow script (see @upstash/ratelimit dist/index.mjs).
      assert.deepEqual(await redis.scriptExists("b2efc02798c8e9b471a10f9b1d5745db89923ff3"), [1]);
    });

    await t.step("redis outage is a fast 503, and the proxy recovers", async () => {
      await stopRedis(redisProcess);
      // Redis stays down until after these answers: each is the proxy's own 503 while it is down (not
      // an answer after a reconnect), whatever the machine's speed.
      const down = await raw("/", ["PING"]);
      assert.equal(down.status, 503);
      assert.match(String((down.body as { error: string }).error), /Redis unavailable/);
      assert.equal((await raw("/pipeline", [["PING"]])).status, 503);
      assert.equal((await fetch(url)).status, 503);
      await assert.rejects(direct.get("greeting"), /Redis unavailable/);

      redisProcess = await startRedis(redisPort);
      await waitFor(async () => (await raw("/", ["PING"])).status === 200, "proxy to reconnect");
      assert.equal(await redis.set("after", "outage"), "OK");
      assert.equal(await redis.get("after"), "outage");
    });
  } finally {
    await server.shutdown();
    await proxy.close();
    await stopRedis(redisProcess);
  }
});
