// The weekly event-log export and its restore drill: every projection rebuilt from the export alone, in
// an empty database, equals the source's, and the chain rebuilt there ends on the exported head.
import assert from "node:assert/strict";
import { createSql } from "../supabase/functions/_shared/infra/db.ts";
import { exportEvents, restoreDrill } from "../devstack/event_export.ts";
import { scratchDatabase } from "./scratch_db.ts";

Deno.test("an empty database rebuilt from the export alone has the source's digests and chain head", async () => {
  const source = await scratchDatabase();
  const empty = await scratchDatabase();
  const file = await Deno.makeTempFile({ suffix: ".ndjson.gz" });
  try {
    const sql = createSql(source.url, 2);
    try {
      await sql`with c as (select test_support.chain(5) as ids), p as (select test_support.package(10000, 100, 30) as id)
                select test_support.set_vip(c.ids[1], 10), test_support.buy(c.ids[5], p.id),
                       test_support.buy(c.ids[4], p.id) from c, p`;
      await sql`select money.accrue_due_earnings(now() + interval '3 hours')`;
    } finally {
      await sql.end();
    }
    const header = await exportEvents(source.url, file);
    assert.ok(header.eventCount > 20);
    assert.ok(header.digests.length > 5);
    const head = await new Response(
      (await Deno.open(file)).readable.pipeThrough(new DecompressionStream("gzip")),
    ).text();
    assert.equal(
      head.trim().split("\n").length,
      header.eventCount + 1,
      "a header line, then one line per event",
    );

    const target = createSql(empty.url, 2);
    try {
      const drill = await restoreDrill(target, file);
      assert.equal(drill.events, header.eventCount);
      assert.deepEqual(drill.differing, [], "every projection's digest equals the source's");
      assert.ok(drill.chainHeadMatches, "the chain rebuilt from the export ends on the exported head");
    } finally {
      await target.end();
    }
  } finally {
    await source.drop();
    await empty.drop();
    await Deno.remove(file);
  }
});
