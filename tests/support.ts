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
 * start their burst so that at least `burstMs` (at most half the window) is left before its end. */
export async function awayFromWindowBoundary(windowMs: number, burstMs = 20_000): Promise<void> {
  // The burst must end inside the window it starts in: a loaded machine has taken 12–18 s for six logins
  // (each hashes a password), so the budget is generous; the 1 s after a boundary absorbs clock rounding.
  const startMarginMs = 1000;
  const intoWindowMs = Date.now() % windowMs;
  if (intoWindowMs < startMarginMs) await new Promise((r) => setTimeout(r, startMarginMs - intoWindowMs));
  else if (windowMs - intoWindowMs < Math.min(burstMs, windowMs / 2)) {
    await new Promise((r) => setTimeout(r, windowMs - intoWindowMs + startMarginMs));
  }
}

/** A random loopback address other than 127.0.0.1. The gateway appends the connection's address to
 * X-Forwarded-For, as Supabase's proxy does, and the functions trust only that entry: a test that
 * needs rate-limit buckets of its own connects from its own address rather than forging a header. */
export function loopbackIp(): string {
  const b = crypto.getRandomValues(new Uint8Array(3));
  return `127.${(b[0]! % 254) + 1}.${b[1]}.${b[2]}`;
}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** fetch over a connection from `localIp` (see loopbackIp). The body is read before the connection
 * closes, so the response is complete and nothing stays open after the call. */
export async function fetchFrom(localIp: string, url: string, init: RequestInit = {}): Promise<Response> {
  const client = Deno.createHttpClient({ localAddress: localIp });
  try {
    const res = await fetch(url, { ...init, client });
    const body = await res.arrayBuffer();
    return new Response(NULL_BODY_STATUSES.has(res.status) ? null : body, {
      status: res.status,
      headers: res.headers,
    });
  } finally {
    client.close();
  }
}
