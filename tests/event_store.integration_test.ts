// The event store against a real Postgres: concurrency and commit order, which pgTAP inside one
// transaction cannot show.
import assert from "node:assert/strict";
import {
  appendToStream,
  type Checkpoint,
  checkpointOf,
  IdempotencyKeyReusedError,
  InvalidEventError,
  readAll,
  readStream,
  type RecordedEvent,
  START,
  WrongExpectedVersionError,
} from "../supabase/functions/_shared/infra/event_store.ts";
import type { DomainEvent } from "../supabase/functions/_shared/domain/events.ts";
import { testSql, uniqueId } from "./support.ts";

const retired = (): DomainEvent => ({ type: "PackageRetired", data: { packageId: crypto.randomUUID() } });

/** Reads from a checkpoint until nothing more is handed out. */
async function drain(sql: ReturnType<typeof testSql>, from: Checkpoint) {
  const events: RecordedEvent[] = [];
  let at = from;
  for (;;) {
    const batch = await readAll(sql, at, 10_000);
    if (batch.length === 0) return { events, at };
    events.push(...batch);
    at = checkpointOf(batch.at(-1)!);
  }
}

Deno.test("100 concurrent appends with the same expected version: one wins, 99 conflict", async () => {
  const sql = testSql(100);
  try {
    const stream = uniqueId("race");
    await appendToStream(sql, stream, "no_stream", [retired()]);
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, () => appendToStream(sql, stream, 1, [retired()])),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    const conflicts = results.filter((r) =>
      r.status === "rejected" && r.reason instanceof WrongExpectedVersionError
    );
    assert.equal(won.length, 1);
    assert.equal(conflicts.length, 99);
    assert.equal((await readStream(sql, stream)).length, 2);
  } finally {
    await sql.end();
  }
});

Deno.test("100 concurrent no_stream appends create the stream once", async () => {
  const sql = testSql(100);
  try {
    const stream = uniqueId("race-new");
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, () => appendToStream(sql, stream, "no_stream", [retired()])),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    assert.equal((await readStream(sql, stream)).length, 1);
  } finally {
    await sql.end();
  }
});

Deno.test("concurrent appends with expected version any all land, with distinct versions", async () => {
  const sql = testSql(50);
  try {
    const stream = uniqueId("any");
    await Promise.all(Array.from({ length: 50 }, () => appendToStream(sql, stream, "any", [retired()])));
    const versions = (await readStream(sql, stream)).map((e) => e.streamVersion);
    assert.deepEqual(versions, Array.from({ length: 50 }, (_, i) => i + 1));
  } finally {
    await sql.end();
  }
});

Deno.test("an idempotent re-append returns the first positions; another payload under the key fails", async () => {
  const sql = testSql(20);
  try {
    const stream = uniqueId("idem");
    const key = uniqueId("key");
    const event = retired();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => appendToStream(sql, stream, "any", [event], { idempotencyKey: key })),
    );
    for (const result of results) assert.deepEqual(result, results[0]);
    assert.equal((await readStream(sql, stream)).length, 1);
    await assert.rejects(
      appendToStream(sql, stream, "any", [retired()], { idempotencyKey: key }),
      IdempotencyKeyReusedError,
    );
  } finally {
    await sql.end();
  }
});

Deno.test("the typed client refuses an event that does not match the union, before writing", async () => {
  const sql = testSql(1);
  try {
    const stream = uniqueId("invalid");
    const bad = { type: "PackageRetired", data: { packageId: "not-a-uuid" } } as DomainEvent;
    await assert.rejects(appendToStream(sql, stream, "any", [bad]), InvalidEventError);
    const unknown = { type: "Nonsense", data: {} } as unknown as DomainEvent;
    await assert.rejects(appendToStream(sql, stream, "any", [unknown]), InvalidEventError);
    assert.equal((await readStream(sql, stream)).length, 0);
  } finally {
    await sql.end();
  }
});

Deno.test("a reader never skips an event whose lower position commits last", async () => {
  const sql = testSql(4);
  const slow = await sql.reserve();
  const fast = await sql.reserve();
  try {
    const { at: head } = await drain(sql, START);
    const slowStream = uniqueId("slow");
    const fastStream = uniqueId("fast");

    await slow`begin`;
    await slow`select event_store.append_events(${slowStream}, 'no_stream', '[{"type":"PackageRetired","data":{}}]')`;
    await fast`begin`;
    await fast`select event_store.append_events(${fastStream}, 'no_stream', '[{"type":"PackageRetired","data":{}}]')`;
    await fast`commit`;

    const [slowRow] = await slow`select position from event_store.events where stream_id = ${slowStream}`;
    const [fastRow] = await sql`select position from event_store.events where stream_id = ${fastStream}`;
    assert.ok(slowRow!.position < fastRow!.position, "the slow transaction holds the lower position");

    // A naive "position > last" reader would hand out the fast event now and move past the slow one.
    const whileOpen = await drain(sql, head);
    const streamsWhileOpen = whileOpen.events.map((e) => e.streamId);
    assert.ok(!streamsWhileOpen.includes(slowStream));
    assert.ok(!streamsWhileOpen.includes(fastStream), "nothing after a running transaction is handed out");

    await slow`commit`;
    const after = await drain(sql, whileOpen.at);
    const ours = after.events.filter((e) => e.streamId === slowStream || e.streamId === fastStream);
    assert.deepEqual(ours.map((e) => e.streamId), [slowStream, fastStream]);
  } finally {
    slow.release();
    fast.release();
    await sql.end();
  }
});
