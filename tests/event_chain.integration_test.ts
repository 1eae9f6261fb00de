// The tamper-evident hash chain, on committed events in a scratch database (the sealer reads only what
// committed below the snapshot horizon, and the test must disable the immutability trigger).
import assert from "node:assert/strict";
import { createSql } from "../supabase/functions/_shared/infra/db.ts";
import { scratchDatabase } from "./scratch_db.ts";

Deno.test("the chain seals in reader order, verifies, and names the event whose data lost one byte", async () => {
  const db = await scratchDatabase();
  const sql = createSql(db.url, 4);
  try {
    // Three transactions' worth of events, appended concurrently.
    await Promise.all([1, 2, 3].map(() => sql`select test_support.chain(5)`));
    const [first] = await sql<{ n: number }[]>`select event_store.seal_chain(7) as n`;
    assert.equal(first!.n, 7, "at most the batch size");
    const [rest] = await sql<{ n: number }[]>`select event_store.seal_chain() as n`;
    const [count] = await sql<{ events: number }[]>`select count(*)::int as events from event_store.events`;
    assert.equal(first!.n + rest!.n, count!.events, "every committed event is sealed");
    assert.equal((await sql`select event_store.seal_chain() as n`)[0]!.n, 0, "and only once");

    const order = await sql<{ same: boolean }[]>`
      select array_agg(position order by seq) = (select array_agg(position order by transaction_id, position)
                                                 from event_store.events) as same
      from event_store.chain`;
    assert.ok(order[0]!.same, "chain order is reader order (transaction id, position)");
    assert.equal((await sql`select * from event_store.verify_chain(null, null)`).length, 0, "intact");

    // Flip one byte of one event's data, behind the immutability trigger's back.
    const [victim] = await sql<{ position: number; seq: number }[]>`
      select position, seq from event_store.chain order by seq offset 9 limit 1`;
    await sql.begin(async (tx) => {
      await tx`alter table event_store.events disable trigger events_reject_update_delete`;
      await tx`update event_store.events set data = jsonb_set(data, '{referralCode}',
                 to_jsonb(overlay(data ->> 'referralCode' placing 'Z' from 1 for 1)))
               where position = ${victim!.position}`;
      await tx`alter table event_store.events enable trigger events_reject_update_delete`;
    });
    const broken = await sql<{ seq: number; event_position: number; problem: string }[]>`
      select * from event_store.verify_chain(null, null)`;
    assert.deepEqual(broken.map((b) => ({ ...b })), [{
      seq: victim!.seq,
      event_position: victim!.position,
      problem: "hash mismatch",
    }]);
    assert.equal(
      (await sql`select * from event_store.verify_chain(1, ${victim!.seq - 1})`).length,
      0,
      "the links before it still verify",
    );

    // And a chain row cannot be rewritten to match.
    await assert.rejects(sql`update event_store.chain set hash = hash where seq = 1`, /immutable/);
  } finally {
    await sql.end();
    await db.drop();
  }
});
