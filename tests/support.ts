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

/** Rate limits count in windows: a burst that straddles a window boundary is counted partly in each
 * (a fixed window admits the limit twice; @upstash/ratelimit's sliding window weighs the previous
 * window by its overlap, its documented approximation). Tests that expect exactly the limit to pass
 * start their burst at least `marginMs` away from a boundary of the window. */
export async function awayFromWindowBoundary(windowMs: number, marginMs = 3000): Promise<void> {
  const intoWindowMs = Date.now() % windowMs;
  if (intoWindowMs < marginMs) await new Promise((r) => setTimeout(r, marginMs - intoWindowMs));
  else if (windowMs - intoWindowMs < marginMs) {
    await new Promise((r) => setTimeout(r, windowMs - intoWindowMs + marginMs));
  }
}
