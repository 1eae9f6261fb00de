// A fresh database with every migration applied, for tests that must own the whole database: the
// earnings watermark is global, and concurrent runs, killed backends and catch-up after downtime need
// committed state no other test may see. Created with the same files, in the same order, as ./dev.
import { DATABASE_URL } from "./support.ts";

const root = new URL("../", import.meta.url);

async function psql(url: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("psql", {
    args: ["-X", "-q", "-v", "ON_ERROR_STOP=1", url, ...args],
    env: { PGOPTIONS: "-c client_min_messages=warning" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`psql ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

export async function scratchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `accrue_scratch_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = DATABASE_URL;
  await psql(admin, ["-c", `create database ${name}`]);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const files = [new URL("devstack/bootstrap.sql", root).pathname];
  const migrations = [];
  for await (const entry of Deno.readDir(new URL("supabase/migrations/", root))) {
    if (entry.name.endsWith(".sql")) migrations.push(entry.name);
  }
  migrations.sort();
  for (const file of migrations) files.push(new URL(`supabase/migrations/${file}`, root).pathname);
  files.push(new URL("devstack/test_support.sql", root).pathname);
  for (const file of files) await psql(url.href, ["--single-transaction", "-f", file]);
  // Recorded as ./dev (and the Supabase CLI) record them, so a backup's manifest lists them.
  const versions = migrations.map((m) => `('${m.split("_")[0]}', '${m.replace(/^\d+_|\.sql$/g, "")}')`);
  await psql(url.href, [
    "-c",
    `create schema if not exists supabase_migrations;
     create table if not exists supabase_migrations.schema_migrations (version text primary key, statements text[], name text);
     insert into supabase_migrations.schema_migrations (version, name) values ${versions.join(", ")}`,
  ]);
  return {
    url: url.href,
    drop: () => psql(admin, ["-c", `drop database if exists ${name} with (force)`]),
  };
}
