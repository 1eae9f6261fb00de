// search: GET /admin/users?search=<email substring> over 1,000,000 users: p50 under 20 ms. The baseline
// is the same query planned without the trigram index (a sequential scan of every email), once.
//
// Setup writes users, profiles and credentials straight into a scratch database: emails look like
// "<first>.<last><n>@<domain>", and each search is a random user's "<last><n>" (one to a few matches).
import { createSql } from "../../supabase/functions/_shared/infra/db.ts";
import { listUsers } from "../../supabase/functions/_shared/infra/admin_store.ts";
import { BENCH_SECONDS, type BenchResult, closedLoop, result, round, scratchDatabase } from "../lib.ts";

const USERS = Number(Deno.env.get("BENCH_SEARCH_USERS") ?? 1_000_000);
const FIRST = ["ann", "bob", "chen", "dara", "emil", "fatima", "goran", "hana", "ivan", "jun"];
const LAST = ["lee", "smith", "garcia", "novak", "okafor", "tanaka", "silva", "khan", "muller", "rossi"];

export async function run(): Promise<BenchResult> {
  const scratch = await scratchDatabase();
  const sql = createSql(scratch.url, 2);
  try {
    const t0 = performance.now();
    await sql`
      insert into public.users (user_id, referral_code, registered_at)
      select md5('search-user-' || i)::uuid,
             (select string_agg(substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + (i / (30 ^ d)::bigint % 30)::int, 1), '' order by d)
              from generate_series(0, 7) d),
             timestamptz '2026-01-01' + i * interval '1 second'
      from generate_series(1, ${USERS}) i`;
    await sql`
      insert into private.profiles (user_id, email)
      select md5('search-user-' || i)::uuid,
             (${FIRST}::text[])[1 + i % 10] || '.' || (${LAST}::text[])[1 + (i / 10) % 10] || i || '@' ||
             (array['gmail.com', 'example.org', 'mail.test'])[1 + i % 3]
      from generate_series(1, ${USERS}) i`;
    await sql`
      insert into private.credentials (user_id, password_hash)
      select md5('search-user-' || i)::uuid, '$scrypt$bench' from generate_series(1, ${USERS}) i`;
    await sql`vacuum analyze public.users, private.profiles, private.credentials`.simple();
    const setupSeconds = (performance.now() - t0) / 1000;

    const term = (i: number) => {
      const n = 1 + ((i * 7919) % USERS);
      return `${LAST[Math.floor(n / 10) % 10]}${n}@`;
    };
    const first = await listUsers(sql, term(1), 20, null);
    const measured = await closedLoop(1, Math.min(BENCH_SECONDS, 10), async (_, i) => {
      const rows = await listUsers(sql, term(i + 2), 20, null);
      if (rows.length === 0) throw new Error(`no match for ${term(i + 2)}`);
    });
    // A common substring (a third of all users) shows the price of a non-selective term.
    const c0 = performance.now();
    await listUsers(sql, "gmail", 20, null);
    const commonMs = performance.now() - c0;

    const reserved = await sql.reserve();
    let seqScanMs: number;
    try {
      await reserved`begin`;
      await reserved`set local enable_bitmapscan = off`;
      await reserved`set local enable_indexscan = off`;
      const s0 = performance.now();
      await reserved`select user_id from private.profiles where email like ${"%" + term(3) + "%"}`;
      seqScanMs = performance.now() - s0;
      await reserved`rollback`;
    } finally {
      reserved.release();
    }
    return result({
      scenario: "search",
      metric: "search_p50_ms",
      value: round(measured.p50Ms, 2),
      unit: "ms (p50)",
      baseline: `the email substring by a sequential scan of ${USERS} profiles`,
      baseline_value: round(seqScanMs, 1),
      target: { ratio: 1, meaning: "<=" },
      extraChecks: measured.p50Ms < 20 && first.length === 1,
      p50_ms: round(measured.p50Ms, 2),
      p99_ms: round(measured.p99Ms, 2),
      notes: `absolute target p50 < 20 ms; ${measured.ops} searches on one connection; ` +
        `a common substring ("gmail", ${Math.round(USERS / 3)} matches): ${round(commonMs)} ms; ` +
        `setup ${round(setupSeconds)} s`,
    });
  } finally {
    await sql.end();
    await scratch.drop();
  }
}
