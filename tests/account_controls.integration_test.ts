// The last admin, race-safe: the only two admins demoting each other (and themselves) at once leave
// exactly one admin, every time, and no command deadlocks. On a scratch database, because "the last
// admin" is a fact about the whole database.
import assert from "node:assert/strict";
import { createSql } from "../supabase/functions/_shared/infra/db.ts";
import { scratchDatabase } from "./scratch_db.ts";

Deno.test("two admins demoting each other and themselves at once: exactly one admin remains", async () => {
  const scratch = await scratchDatabase();
  const sql = createSql(scratch.url, 6);
  try {
    const [row] = await sql<{ a: string; b: string }[]>`
      select test_support.kyc_user(true) as a, test_support.kyc_user(true) as b`;
    const { a, b } = row!;
    for (let round = 0; round < 5; round++) {
      const demote = (target: string, actor: string) =>
        sql<{ r: { changed: boolean } }[]>`
          select private.change_role(${target}::uuid, ${actor}::uuid, 'user') as r`.then(
          ([row]) => (row!.r.changed ? "demoted" : "already a user"),
          (error) => (error as { code?: string }).code ?? String(error),
        );
      const outcomes = await Promise.all([demote(b, a), demote(a, b), demote(a, a), demote(b, b)]);
      const admins = await sql<{ user_id: string }[]>`
        select user_id from private.credentials where role = 'admin'`;
      assert.equal(admins.length, 1, `round ${round}: ${JSON.stringify(outcomes)}`);
      assert.equal(outcomes.filter((o) => o === "demoted").length, 1, JSON.stringify(outcomes));
      // The others found their target demoted already, or were refused as not admins any more (KY403)
      // or as the last admin (AD409): never a deadlock.
      for (const o of outcomes) assert.ok(["demoted", "already a user", "KY403", "AD409"].includes(o), o);
      const survivor = admins[0]!.user_id;
      await sql`select private.change_role(${survivor === a ? b : a}::uuid, ${survivor}::uuid, 'admin')`;
    }
  } finally {
    await sql.end();
    await scratch.drop();
  }
});
