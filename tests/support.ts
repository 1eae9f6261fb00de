// Shared by the integration tests: they run against the local stack that ./dev test brings up.
import { createSql, type Sql } from "../supabase/functions/_shared/infra/db.ts";

export const API_URL = Deno.env.get("API_URL") ?? "http://127.0.0.1:54321";
export const DATABASE_URL = Deno.env.get("DATABASE_URL") ?? "postgres://postgres@127.0.0.1:54322/postgres";

export function testSql(max = 10): Sql {
  return createSql(DATABASE_URL, max);
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

export function fn(path: string): string {
  return `${API_URL}/functions/v1/${path.replace(/^\//, "")}`;
}
