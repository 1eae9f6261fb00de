// The benchmark harness's scratch databases: each is a clone of one template migrated per run, so each
// must hold every migration (as a freshly migrated database does), be independent of the others, and
// leave nothing behind once dropped with the template.
import assert from "node:assert/strict";
import { createSql } from "../supabase/functions/_shared/infra/db.ts";
import { dropScratchTemplate, scratchDatabase } from "../bench/lib.ts";
import { testSql } from "./support.ts";

Deno.test("bench scratch databases are migrated clones of one template, dropped without a trace", async () => {
  const admin = testSql(1);
  const first = await scratchDatabase();
  const second = await scratchDatabase();
  const names = [first, second].map((s) => new URL(s.url).pathname.slice(1));
  let template = "";
  try {
    const migrations = await Array.fromAsync(
      Deno.readDir(new URL("../supabase/migrations/", import.meta.url)),
    );
    for (const scratch of [first, second]) {
      const sql = createSql(scratch.url, 1);
      try {
        const [row] = await sql<{ n: number; append: boolean }[]>`
          select (select count(*)::int from supabase_migrations.schema_migrations) as n,
                 to_regprocedure('event_store.append_events(text, text, jsonb, jsonb, text)') is not null as append`;
        assert.equal(row!.n, migrations.filter((m) => m.name.endsWith(".sql")).length);
        assert.ok(row!.append);
      } finally {
        await sql.end();
      }
    }
    // One clone's events are not the other's.
    const a = createSql(first.url, 1);
    try {
      await a`select event_store.append_events('bench-scratch', 'no_stream', '[{"type":"PackageRetired","data":{}}]')`;
    } finally {
      await a.end();
    }
    const b = createSql(second.url, 1);
    try {
      const [row] = await b<
        { n: number }[]
      >`select count(*)::int as n from event_store.events where stream_id = 'bench-scratch'`;
      assert.equal(row!.n, 0);
      assert.equal(first.template, second.template);
      template = first.template;
    } finally {
      await b.end();
    }
  } finally {
    await first.drop();
    await second.drop();
    await dropScratchTemplate();
  }
  try {
    const left = await admin<{ name: string }[]>`
      select datname as name from pg_database where datname = any(${[...names, template]})`;
    assert.deepEqual(left.map((r) => r.name), []);
  } finally {
    await admin.end();
  }
});
