// ./dev backup / ./dev restore <dir>: a consistent dump with a manifest, and a restore that proves itself.
//
// backup: seals the event chain up to date, opens a repeatable-read transaction, exports its snapshot,
// reads the manifest figures in it (migrations, event count, chain head) and runs pg_dump (custom format)
// on that same snapshot, so figures and dump agree exactly; then tars KYC storage and writes
// manifest.json with SHA-256 checksums of both files.
// restore: checks every checksum first (a truncated or altered file fails with a clear message), restores
// into a new database, then proves it: the migrations match the manifest, the event count matches, the
// chain verifies up to the recorded head and ends on the recorded hash, the cluster's transaction ids are
// past every restored event's (readers order events by them), and projections.verify_rebuild() finds no
// table whose rebuild differs.
import { createSql } from "../supabase/functions/_shared/infra/db.ts";

const PG_BIN = "/usr/lib/postgresql/15/bin";

export type Manifest = {
  format: 1;
  createdAt: string;
  database: string;
  migrations: string[];
  eventCount: number;
  chainHead: { seq: number; position: number; hash: string } | null;
  files: Record<string, { sha256: string; bytes: number }>;
};

async function run(cmd: string, args: string[]): Promise<string> {
  const bin = await Deno.stat(`${PG_BIN}/${cmd}`).then(() => `${PG_BIN}/${cmd}`, () => cmd);
  const out = await new Deno.Command(bin, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  return text;
}

async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const data = await Deno.readFile(path);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return { sha256: [...digest].map((b) => b.toString(16).padStart(2, "0")).join(""), bytes: data.length };
}

export async function backup(
  databaseUrl: string,
  outDir: string,
  storageDir: string | null,
): Promise<Manifest> {
  await Deno.mkdir(outDir, { recursive: true });
  const sql = createSql(databaseUrl, 2);
  try {
    while ((await sql<{ n: number }[]>`select event_store.seal_chain(10000) as n`)[0]!.n > 0) {
      /* catch up */
    }
    const conn = await sql.reserve();
    try {
      await conn`begin isolation level repeatable read read only`;
      const [exported] = await conn<{ snapshot: string }[]>`select pg_export_snapshot() as snapshot`;
      const snapshot = exported!.snapshot;
      const migrations = await conn<{ version: string }[]>`
        select version from supabase_migrations.schema_migrations order by version`;
      const [count] = await conn<{ n: number }[]>`select count(*)::int as n from event_store.events`;
      const [head] = await conn<{ seq: number; position: number; hash: string }[]>`
        select seq::int as seq, position::int as position, encode(hash, 'hex') as hash
        from event_store.chain order by seq desc limit 1`;
      await run("pg_dump", [
        "--format=custom",
        `--snapshot=${snapshot}`,
        `--file=${outDir}/db.dump`,
        databaseUrl,
      ]);
      await conn`commit`;
      const files: Manifest["files"] = { "db.dump": await sha256File(`${outDir}/db.dump`) };
      if (
        storageDir && await Deno.stat(storageDir).then(() => true, () => false)
      ) {
        await run("tar", ["-czf", `${outDir}/storage.tar.gz`, "-C", storageDir, "."]);
        files["storage.tar.gz"] = await sha256File(`${outDir}/storage.tar.gz`);
      }
      const manifest: Manifest = {
        format: 1,
        createdAt: new Date().toISOString(),
        database: new URL(databaseUrl).pathname.slice(1),
        migrations: migrations.map((m) => m.version),
        eventCount: count!.n,
        chainHead: head ?? null,
        files,
      };
      await Deno.writeTextFile(`${outDir}/manifest.json`, JSON.stringify(manifest, null, 2) + "\n");
      return manifest;
    } finally {
      conn.release();
    }
  } finally {
    await sql.end();
  }
}

export class RestoreFailed extends Error {}

export type RestoreResult = {
  databaseUrl: string;
  database: string;
  storageDir: string | null;
  proofs: string[];
};

/** Restores `dir` into a new database `database` of the cluster at `adminUrl`, then proves it. */
export async function restore(dir: string, adminUrl: string, database: string): Promise<RestoreResult> {
  const manifest = JSON.parse(
    await Deno.readTextFile(`${dir}/manifest.json`).catch(() => {
      throw new RestoreFailed(`${dir} has no manifest.json: not a backup made by ./dev backup`);
    }),
  ) as Manifest;
  for (const [name, expected] of Object.entries(manifest.files)) {
    const actual = await sha256File(`${dir}/${name}`).catch(() => null);
    if (!actual) throw new RestoreFailed(`${name} is missing from ${dir}`);
    if (actual.sha256 !== expected.sha256 || actual.bytes !== expected.bytes) {
      throw new RestoreFailed(
        `${name} is damaged: ${actual.bytes} bytes with SHA-256 ${
          actual.sha256.slice(0, 16)
        }…, the manifest says ` +
          `${expected.bytes} bytes with ${
            expected.sha256.slice(0, 16)
          }… (truncated or altered); this backup cannot be restored`,
      );
    }
  }
  // pg_cron lives in one database per cluster: its extension and job table stay out of the restore.
  const list = (await run("pg_restore", ["--list", `${dir}/db.dump`])).split("\n")
    .filter((line) => !/\bpg_cron\b|\bSCHEMA - cron\b| cron /.test(line)).join("\n");
  await Deno.writeTextFile(`${dir}/restore.list`, list);

  const admin = createSql(adminUrl, 1);
  try {
    await admin.unsafe(`create database "${database}"`);
  } finally {
    await admin.end();
  }
  const target = new URL(adminUrl);
  target.pathname = `/${database}`;
  await run("pg_restore", [
    "--exit-on-error",
    "--no-owner",
    `--use-list=${dir}/restore.list`,
    "-d",
    target.href,
    `${dir}/db.dump`,
  ]);

  const sql = createSql(target.href, 1);
  const proofs: string[] = [];
  try {
    await sql.unsafe(`alter database "${database}" set search_path = "$user", public, extensions`);
    const migrations = (await sql<{ version: string }[]>`
      select version from supabase_migrations.schema_migrations order by version`).map((m) => m.version);
    if (JSON.stringify(migrations) !== JSON.stringify(manifest.migrations)) {
      throw new RestoreFailed(
        `the restored migrations (${migrations.length}) differ from the manifest's (${manifest.migrations.length})`,
      );
    }
    proofs.push(`${migrations.length} migrations match the manifest`);
    const [count] = await sql<{ n: number; max_tx: string | null; current_tx: string }[]>`
      select count(*)::int as n, max(transaction_id)::text as max_tx, pg_current_xact_id()::text as current_tx
      from event_store.events`;
    if (count!.n !== manifest.eventCount) {
      throw new RestoreFailed(`the restore has ${count!.n} events, the manifest ${manifest.eventCount}`);
    }
    proofs.push(`${count!.n} events, as the manifest says`);
    if (count!.max_tx !== null && BigInt(count!.current_tx) <= BigInt(count!.max_tx)) {
      throw new RestoreFailed(
        `this cluster's transaction ids (${count!.current_tx}) are behind the restored events' (${
          count!.max_tx
        }): ` +
          `new events would sort before old ones for every reader; restore into a cluster that is further on`,
      );
    }
    if (manifest.chainHead) {
      const broken = await sql`select * from event_store.verify_chain(null, ${manifest.chainHead.seq})`;
      if (broken.length > 0) throw new RestoreFailed(`the chain breaks at ${JSON.stringify(broken[0])}`);
      const [head] = await sql<{ hash: string }[]>`
        select encode(hash, 'hex') as hash from event_store.chain where seq = ${manifest.chainHead.seq}`;
      if (head?.hash !== manifest.chainHead.hash) {
        throw new RestoreFailed(`the chain's hash at ${manifest.chainHead.seq} is not the recorded head`);
      }
      proofs.push(
        `the chain verifies up to the recorded head (seq ${manifest.chainHead.seq}, ${
          manifest.chainHead.hash.slice(0, 16)
        }…)`,
      );
    }
    // verify_rebuild rebuilds in the caller's transaction: roll it back, whatever it found.
    const rollback = new Error("rollback");
    let differing: { table_name: string }[] = [];
    await sql.begin(async (tx) => {
      differing = await tx<{ table_name: string }[]>`select table_name from projections.verify_rebuild()`;
      throw rollback;
    }).catch((e) => {
      if (e !== rollback) throw new RestoreFailed(`projections.verify_rebuild() failed: ${e.message}`);
    });
    if (differing.length > 0) {
      throw new RestoreFailed(
        `rebuilt projections differ from the restored ones: ${differing.map((d) => d.table_name).join(", ")}`,
      );
    }
    proofs.push("every projection rebuilt from the events equals the restored one");
  } finally {
    await sql.end();
  }
  let storageDir: string | null = null;
  if (manifest.files["storage.tar.gz"]) {
    storageDir = `${dir}/restored-storage`;
    await Deno.mkdir(storageDir, { recursive: true });
    await run("tar", ["-xzf", `${dir}/storage.tar.gz`, "-C", storageDir]);
    proofs.push(`KYC storage unpacked into ${storageDir}`);
  }
  return { databaseUrl: target.href, database, storageDir, proofs };
}

if (import.meta.main) {
  const [command, arg] = Deno.args;
  const databaseUrl = Deno.env.get("DATABASE_URL")!;
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "T");
  try {
    if (command === "backup") {
      const outDir = arg ?? `${Deno.env.get("BACKUP_DIR") ?? ".local/backups"}/${stamp}`;
      const manifest = await backup(databaseUrl, outDir, Deno.env.get("KYC_STORAGE_DIR") ?? ".local/storage");
      console.error(`backup: ${manifest.eventCount} events, chain head ${manifest.chainHead?.seq ?? "none"}`);
      console.log(await Deno.realPath(outDir));
    } else if (command === "restore" && arg) {
      const database = `accrue_restore_${stamp.toLowerCase()}`;
      const result = await restore(arg, databaseUrl, database);
      for (const proof of result.proofs) console.error(`ok: ${proof}`);
      console.log(`restore verified: ${result.databaseUrl}`);
    } else {
      console.error("usage: backup.ts backup [dir] | restore <dir>");
      Deno.exit(2);
    }
  } catch (error) {
    console.error(`${command} failed: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
