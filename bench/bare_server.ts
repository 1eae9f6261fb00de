// Baseline for the http scenario: a bare Deno.serve doing what the health check does (Postgres
// `select 1` and a Redis PING, with the same clients) and nothing else: no gateway, no middleware.
import { db } from "../supabase/functions/_shared/infra/db.ts";
import { redis } from "../supabase/functions/_shared/infra/redis.ts";

const port = Number(Deno.env.get("BARE_PORT") ?? 31000);
// BARE_CHECKS=db: only the Postgres select 1 (the baseline of the `me` scenario).
const withRedis = (Deno.env.get("BARE_CHECKS") ?? "db,redis").includes("redis");
Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async () => {
  await Promise.all(withRedis ? [db()`select 1`, redis().ping()] : [db()`select 1`]);
  return new Response('{"status":"ok"}', { headers: { "Content-Type": "application/json" } });
});
