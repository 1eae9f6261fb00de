// ./dev backup and ./dev restore (devstack/backup.ts): backup → drop → restore → the restore proves itself;
// a backup whose dump was truncated is refused with a clear message.
import assert from "node:assert/strict";
import { createSql } from "../supabase/functions/_shared/infra/db.ts";
import { backup, restore, RestoreFailed } from "../devstack/backup.ts";
import { DATABASE_URL } from "./support.ts";
import { scratchDatabase } from "./scratch_db.ts";

async function dropDatabase(name: string) {
  const admin = createSql(DATABASE_URL, 1);
  try {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.end();
  }
}

Deno.test("backup, drop the database, restore: migrations, events, chain head and projections are proven", async () => {
  const source = await scratchDatabase();
  const dir = await Deno.makeTempDir({ prefix: "accrue-backup-" });
  const storage = await Deno.makeTempDir({ prefix: "accrue-storage-" });
  const restored = `accrue_restore_test_${crypto.randomUUID().slice(0, 8)}`;
  try {
    const sql = createSql(source.url, 2);
    try {
      await sql`with c as (select test_support.chain(4) as ids), p as (select test_support.package(10000, 100, 30) as id)
                select test_support.set_vip(c.ids[1], 10), test_support.buy(c.ids[4], p.id) from c, p`;
    } finally {
      await sql.end();
    }
    await Deno.writeTextFile(`${storage}/document.pdf`, "%PDF-1.4 test");
    const manifest = await backup(source.url, dir, storage);
    assert.ok(manifest.eventCount > 10);
    assert.equal(manifest.chainHead?.seq, manifest.eventCount, "the backup seals the whole log first");
    assert.deepEqual(Object.keys(manifest.files).sort(), ["db.dump", "storage.tar.gz"]);
    await source.drop();

    const result = await restore(dir, DATABASE_URL, restored);
    assert.equal(result.proofs.length, 5, result.proofs.join("; "));
    assert.match(result.proofs[0]!, /migrations match/);
    assert.match(result.proofs[2]!, /chain verifies up to the recorded head/);
    assert.match(result.proofs[3]!, /equals the restored one/);
    assert.equal(await Deno.readTextFile(`${result.storageDir}/document.pdf`), "%PDF-1.4 test");
  } finally {
    await source.drop();
    await dropDatabase(restored);
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(storage, { recursive: true });
  }
});

Deno.test("a backup whose dump was truncated fails verification with a clear message, restoring nothing", async () => {
  const source = await scratchDatabase();
  const dir = await Deno.makeTempDir({ prefix: "accrue-backup-" });
  const restored = `accrue_restore_test_${crypto.randomUUID().slice(0, 8)}`;
  try {
    await backup(source.url, dir, null);
    const dump = await Deno.readFile(`${dir}/db.dump`);
    await Deno.writeFile(`${dir}/db.dump`, dump.slice(0, Math.floor(dump.length / 2)));
    await assert.rejects(
      restore(dir, DATABASE_URL, restored),
      (e: Error) =>
        e instanceof RestoreFailed && /db\.dump is damaged: .*truncated or altered/.test(e.message),
    );
    const admin = createSql(DATABASE_URL, 1);
    try {
      const rows = await admin`select 1 from pg_database where datname = ${restored}`;
      assert.equal(rows.length, 0, "no database was created");
    } finally {
      await admin.end();
    }
  } finally {
    await source.drop();
    await dropDatabase(restored);
    await Deno.remove(dir, { recursive: true });
  }
});
