// The RESP2 parser on partial input, and one connection under many concurrent callers against a real
// redis-server: every caller gets its own replies, in order, and an outage fails fast then recovers.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { ConnectionError, encodeCommand, parseReply, ReplyError, RespConnection } from "./resp_connection.ts";
import { freePort, startRedis, stopRedis } from "../tests/local_redis.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("parseReply waits for a whole reply and reads nested arrays, nil and errors", () => {
  const whole = bytes("*4\r\n$3\r\nabc\r\n:-7\r\n$-1\r\n*2\r\n-ERR boom\r\n+OK\r\n");
  for (let cut = 0; cut < whole.byteLength; cut++) {
    assert.equal(parseReply(whole.subarray(0, cut), 0), null, `cut at ${cut}`);
  }
  const parsed = parseReply(whole, 0);
  assert.equal(parsed?.next, whole.byteLength);
  const [abc, seven, nil, inner] = parsed?.reply as [Buffer, number, null, [ReplyError, Buffer]];
  assert.equal(abc.toString(), "abc");
  assert.equal(seven, -7);
  assert.equal(nil, null);
  assert.ok(inner[0] instanceof ReplyError);
  assert.equal(inner[0].message, "ERR boom");
  assert.equal(inner[1].toString(), "OK");
  // A bulk string may hold CR LF and multi-byte text: its length, not a line end, bounds it.
  const tricky = "a\r\nb 🚀";
  const bulk = parseReply(encodeCommand([tricky]).subarray(4), 0);
  assert.equal((bulk?.reply as Buffer).toString("utf8"), tricky);
});

Deno.test("one connection, many concurrent callers, each gets its own replies", async () => {
  const port = freePort();
  let server = await startRedis(port);
  const redis = new RespConnection("127.0.0.1", port);
  try {
    const callers = Array.from(
      { length: 200 },
      (_, i) => redis.send([["SET", `k${i}`, `v${i}`], ["GET", `k${i}`], ["INCR", `k${i}`]]),
    );
    const all = await Promise.all(callers);
    all.forEach((replies, i) => {
      assert.equal((replies[0] as Buffer).toString(), "OK");
      assert.equal((replies[1] as Buffer).toString(), `v${i}`);
      assert.ok(replies[2] instanceof ReplyError);
    });

    await stopRedis(server);
    await assert.rejects(redis.send([["PING"]]), ConnectionError);
    server = await startRedis(port);
    const [pong] = await redis.send([["PING"]]);
    assert.equal((pong as Buffer).toString(), "PONG");
  } finally {
    redis.close();
    await stopRedis(server);
  }
});
