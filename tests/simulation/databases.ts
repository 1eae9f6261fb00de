// Databases for simulation runs: every migration is applied once to a scratch database (slow: one psql
// per file), which then serves as the template each run's fresh database is copied from (fast).
import { DATABASE_URL } from "../support.ts";
import { scratchDatabase } from "../scratch_db.ts";
import { createSql } from "../../supabase/functions/_shared/infra/db.ts";

export type Database = { url: string; drop: () => Promise<void> };

export async function simulationDatabases(): Promise<
  { fresh: () => Promise<Database>; close: () => Promise<void> }
> {
  const template = await scratchDatabase();
  const templateName = new URL(template.url).pathname.slice(1);
  const admin = createSql(DATABASE_URL, 1);
  return {
    fresh: async () => {
      const name = `accrue_sim_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
      await admin.unsafe(`create database ${name} template ${templateName}`);
      const url = new URL(template.url);
      url.pathname = `/${name}`;
      return {
        url: url.href,
        drop: () => admin.unsafe(`drop database if exists ${name} with (force)`).then(() => {}),
      };
    },
    close: async () => {
      await template.drop();
      await admin.end();
    },
  };
}
