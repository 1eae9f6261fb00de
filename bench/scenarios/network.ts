// network: GET /account/network for the root of a 1,000,000-user tree (all within ten levels): p50
// under 5 ms (absolute target), printed beside the time of the equivalent recursive query over the same
// users.
//
// The tree is built through the production projection: one UserRegistered per user, parents first,
// replayed by `projections.rebuild()`, so the per-level counts the endpoint reads are the ones
// production keeps. The recursive query then checks them for the root.
import { createSql } from "../../supabase/functions/_shared/infra/db.ts";
import { signAccessToken } from "../../supabase/functions/_shared/auth/jwt.ts";
import { tokenConfigFromEnv } from "../../supabase/functions/_shared/auth/config.ts";
import { rateLimitConfigFromEnv } from "../../supabase/functions/_shared/http/ratelimit.ts";
import { redis } from "../../supabase/functions/_shared/infra/redis.ts";
import { createAccountHandler } from "../../supabase/functions/account/handler.ts";
import { BENCH_SECONDS, type BenchResult, closedLoop, result, round, scratchDatabase } from "../lib.ts";

const USERS = Number(Deno.env.get("BENCH_NETWORK_USERS") ?? 1_000_000);
const BRANCHING = 4;

export async function run(): Promise<BenchResult> {
  const scratch = await scratchDatabase();
  const sql = createSql(scratch.url, 4);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    createAccountHandler({
      sql: () => sql,
      redis,
      tokens: tokenConfigFromEnv(),
      rateLimits: { ...rateLimitConfigFromEnv(), enabled: false },
      ip: { header: "x-forwarded-for", hop: "first" },
    }),
  );
  try {
    // Node i's parent is (i - 2) / BRANCHING + 1: a complete 4-ary tree, 1M nodes deep 10 levels.
    // One UserRegistered per user goes into the event store as a backfill would (projection triggers
    // off for the insert), then projections.rebuild() projects them: the production replay, whose
    // handlers keep the per-level counts the route reads.
    const buildStarted = performance.now();
    await sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`
        insert into event_store.events (stream_id, stream_version, type, data, recorded_at)
        select 'user-' || md5('bench-user-' || i)::uuid, 1, 'UserRegistered',
               jsonb_build_object(
                 'userId', md5('bench-user-' || i)::uuid,
                 'referralCode', (select string_agg(substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (i / (30 ^ d)::bigint % 30)::int, 1), '' order by d)
                                  from generate_series(0, 7) d),
                 'referrerId', case when i > 1 then md5('bench-user-' || ((i - 2) / ${BRANCHING} + 1))::uuid end),
               now()
        from generate_series(1, ${USERS}) i order by i`;
    });
    const replayed = (await sql<{ n: number }[]>`select projections.rebuild()::int as n`)[0]!.n;
    if (replayed !== USERS) throw new Error(`rebuild replayed ${replayed} events, expected ${USERS}`);
    const buildSeconds = (performance.now() - buildStarted) / 1000;
    await sql`vacuum analyze public.users, public.network_levels, public.referral_uplines`.simple();
    const root = (await sql<{ id: string }[]>`select md5('bench-user-1')::uuid as id`)[0]!.id;
    const recursive = (level: number) =>
      sql<{ level: number; members: number }[]>`
      with recursive tree(user_id, level) as (
        select user_id, 1 from public.users where referrer_id = ${root}
        union all
        select u.user_id, t.level + 1 from public.users u join tree t on u.referrer_id = t.user_id where t.level < ${level}
      )
      select level, count(*)::int as members from tree group by level order by level`;
    const recursiveTimesMs: number[] = [];
    let levels: { level: number; members: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      levels = await recursive(10);
      recursiveTimesMs.push(performance.now() - t0);
    }
    const token = await signAccessToken(
      { userId: root, role: "user", sessionId: crypto.randomUUID() },
      tokenConfigFromEnv(),
      new Date(),
    );
    const url = `http://127.0.0.1:${server.addr.port}/account/network`;
    const headers = { authorization: `Bearer ${token}` };
    const first = await (await fetch(url, { headers })).json();
    const measured = await closedLoop(1, Math.min(BENCH_SECONDS, 5), async () => {
      const res = await fetch(url, { headers });
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      await res.arrayBuffer();
    });
    recursiveTimesMs.sort((a, b) => a - b);
    const recursiveMs = recursiveTimesMs[1]!;
    // The production counts must be the tree's: the recursive query's per level, and every user.
    const served = (first.levels as { level: number; members: number }[]).filter((l) => l.members > 0);
    const correct = first.totalNetwork === USERS - 1 && first.levels.length === 10 &&
      JSON.stringify(served.map((l) => [l.level, l.members])) ===
        JSON.stringify(levels.map((l) => [l.level, l.members]));
    return result({
      scenario: "network",
      metric: "network_p50_ms",
      value: round(measured.p50Ms, 3),
      unit: "ms (p50)",
      baseline: `the equivalent recursive query over ${USERS} users (median of 3)`,
      baseline_value: round(recursiveMs, 1),
      target: { value: 5, meaning: "<" },
      extraChecks: correct,
      p50_ms: round(measured.p50Ms, 3),
      p99_ms: round(measured.p99Ms, 3),
      notes: `${round(measured.opsPerSecond)} req/s on one connection; tree built through ` +
        `projections.rebuild() in ${
          round(buildSeconds)
        } s; per-level counts equal the recursive query's: ${correct}; ` +
        `totalNetwork ${first.totalNetwork} (expected ${USERS - 1}); recursive query ${
          recursiveTimesMs.map((t) => round(t)).join("/")
        } ms`,
    });
  } finally {
    await server.shutdown();
    await sql.end();
    await scratch.drop();
  }
}
