// earnings-aged: one hour period with 1,000,000 active contracts among 10,000,000 ever sold, against the
// same period with 1,000,000 active among 1,000,000, in the same scratch database in the same run.
// Target: at most 1.2x. Then the longest wait a money command sees while a run is in progress, for the
// chunked job (money.run_earnings) and, side by side, for the whole period in one transaction (what the
// job did before). Target for the chunked run: under one second.
//
// Setup writes users and contracts straight into their projection tables (as `earnings` does): 250,000
// users with 4 active contracts each; the first period accrued in a transaction rolled back (the baseline,
// measured); then 9,000,000 contracts that ran their term last year and are completed (36 per user); then
// the same period again, rolled back (measured). A money command is played by a loop that takes money.lock_users for a random user and that
// user's account row FOR UPDATE (what a withdrawal locks), in its own connection, timing each round.
import { createSql, type Sql } from "../../supabase/functions/_shared/infra/db.ts";
import { type BenchResult, result, round, scratchDatabase } from "../lib.ts";

const USERS = Number(Deno.env.get("BENCH_EARNINGS_AGED_USERS") ?? 250_000);
const ACTIVE_PER_USER = 4;
const COMPLETED_PER_USER = Number(Deno.env.get("BENCH_EARNINGS_AGED_COMPLETED_PER_USER") ?? 36);
const CHUNK_CONTRACTS = Number(Deno.env.get("BENCH_EARNINGS_CHUNK_CONTRACTS") ?? 10_000);
const HOUR_MS = 3600_000;

/** Money commands (lock_users + the account row FOR UPDATE) in a loop while `work` runs: the longest round. */
async function longestCommandWait(url: string, users: string[], work: () => Promise<unknown>) {
  const waiter = createSql(url, 1);
  let running = true;
  let rounds = 0;
  let waitMsMax = 0;
  try {
    await waiter`select 1`;
    const loop = (async () => {
      while (running && rounds < 1_000_000) {
        const user = users[rounds % users.length]!;
        const started = performance.now();
        await waiter.begin(async (tx) => {
          await tx`select money.lock_users(${[user]}::uuid[])`;
          await tx`select 1 from public.user_accounts where user_id = ${user} for update`;
        });
        waitMsMax = Math.max(waitMsMax, performance.now() - started);
        rounds++;
      }
    })();
    const started = performance.now();
    await work();
    const workMs = performance.now() - started;
    running = false;
    await loop;
    return { waitMsMax, rounds, workMs };
  } finally {
    await waiter.end();
  }
}

async function accrueOnePeriod(sql: Sql, periodEndsAt: Date): Promise<number> {
  const started = performance.now();
  const [outcome] = await sql<{ r: { periods: number } }[]>`
    select money.accrue_due_earnings(${periodEndsAt}) as r`;
  if (outcome!.r.periods !== 1) throw new Error(`expected one period, accrued ${outcome!.r.periods}`);
  return performance.now() - started;
}

/** The same, rolled back: the same period can be measured again on a changed table. */
async function accrueOnePeriodRolledBack(sql: Sql, periodEndsAt: Date): Promise<number> {
  const connection = await sql.reserve();
  try {
    await connection`begin`;
    return await accrueOnePeriod(connection, periodEndsAt);
  } finally {
    await connection`rollback`;
    connection.release();
  }
}

export async function run(): Promise<BenchResult> {
  const scratch = await scratchDatabase();
  const sql = createSql(scratch.url, 2);
  try {
    const startsAt = new Date(Date.UTC(2026, 0, 1, 0));
    await sql`
      insert into public.user_accounts (user_id, currency)
      select gen_random_uuid(), 'USD' from generate_series(1, ${USERS})`;
    await sql`
      insert into public.contracts (contract_id, user_id, purchase_id, package_id, principal_minor, currency, daily_rate_bps,
        duration_days, total_yield_minor, starts_at, ends_at)
      select gen_random_uuid(), a.user_id, gen_random_uuid(), gen_random_uuid(), 10000 + n * 37, 'USD', 80, 30,
             (10000 + n * 37) * 80 * 30 / 10000, ${startsAt}, ${startsAt}::timestamptz + interval '30 days'
      from public.user_accounts a, generate_series(1, ${ACTIVE_PER_USER}) n`;
    // The history's periods count as accrued (the watermark is the hour the measured period starts).
    await sql`
      insert into public.earnings_periods (period_starts_at, period_ends_at, event_position, contracts, users, total_minor)
      values (${new Date(startsAt.getTime() - HOUR_MS)}, ${startsAt}, 0, 0, 0, 0)`;
    await sql`vacuum analyze public.contracts`.simple();
    await sql`vacuum analyze public.user_accounts`.simple();
    await sql`checkpoint`.simple();
    const firstPeriodEndsAt = new Date(startsAt.getTime() + HOUR_MS);
    const freshMs = await accrueOnePeriodRolledBack(sql, firstPeriodEndsAt);

    // Contracts sold over the year before, each of which ran its 30 days and completed.
    // Bulk load: the two indexes every contract is in are dropped and built again after (same definitions).
    const historyStarted = performance.now();
    await sql`alter table public.contracts drop constraint contracts_pkey`;
    await sql`drop index public.contracts_user_idx`;
    await sql`
      insert into public.contracts (contract_id, user_id, purchase_id, package_id, principal_minor, currency, daily_rate_bps,
        duration_days, total_yield_minor, starts_at, ends_at, status)
      select gen_random_uuid(), a.user_id, gen_random_uuid(), gen_random_uuid(), 10000 + n * 37, 'USD', 80, 30,
             (10000 + n * 37) * 80 * 30 / 10000, s.at, s.at + interval '30 days', 'completed'
      from public.user_accounts a, generate_series(1, ${COMPLETED_PER_USER}) n,
           lateral (select ${startsAt}::timestamptz - interval '400 days' + n * interval '9 days' as at) s`;
    await sql`set maintenance_work_mem = '256MB'`.simple();
    await sql`alter table public.contracts add constraint contracts_pkey primary key (contract_id)`;
    await sql`create index contracts_user_idx on public.contracts (user_id, starts_at desc, contract_id desc)`;
    await sql`vacuum analyze public.contracts`.simple();
    await sql`checkpoint`.simple();
    const historyS = (performance.now() - historyStarted) / 1000;
    const agedMs = await accrueOnePeriodRolledBack(sql, firstPeriodEndsAt);

    const [counts] = await sql<{ all: number; active: number }[]>`
      select count(*)::int as all, count(*) filter (where status = 'active')::int as active from public.contracts`;
    const users = (await sql<{ id: string }[]>`
      select user_id as id from public.user_accounts order by random() limit 1000`).map((r) => r.id);

    // The job as it runs hourly: chunk after chunk, committing after each.
    const chunked = await longestCommandWait(
      scratch.url,
      users,
      () => sql`call money.run_earnings(${firstPeriodEndsAt}, ${CHUNK_CONTRACTS})`,
    );
    const [chunks] = await sql<{ chunks: number; contracts: number }[]>`
      select chunks, contracts from public.earnings_periods where period_starts_at = ${startsAt}`;
    // What it did before: the whole period in one transaction.
    const whole = await longestCommandWait(
      scratch.url,
      users,
      () => accrueOnePeriod(sql, new Date(startsAt.getTime() + 2 * HOUR_MS)),
    );

    // Two periods accrued; each user's contracts n = 1..4 pay floor(T_n x 2 / 720) by now.
    const expectedEarned = [1, 2, 3, 4].reduce(
      (sum, n) => sum + Math.floor(Math.floor(((10000 + n * 37) * 80 * 30) / 10000) * 2 / 720),
      0,
    );
    const [check] = await sql<{ wrong_users: number; open: number; entries_per_user_max: number }[]>`
      select (select count(*) from public.user_accounts where earned_minor <> ${expectedEarned})::int as wrong_users,
             (select count(*) from public.earnings_periods where not complete)::int as open,
             (select max(n) from (select count(*) as n from public.ledger_entries where event_type = 'EarningsAccrued'
                                  and user_id is not null group by user_id) x)::int as entries_per_user_max`;
    const correct = counts!.active === USERS * ACTIVE_PER_USER &&
      counts!.all === USERS * (ACTIVE_PER_USER + COMPLETED_PER_USER) && check!.wrong_users === 0 &&
      check!.open === 0 && check!.entries_per_user_max === 2 && chunks!.contracts === USERS * ACTIVE_PER_USER;
    const waitOk = chunked.waitMsMax < 1000;
    return result({
      scenario: "earnings-aged",
      metric: "one_period_ms",
      value: round(agedMs),
      unit: "ms",
      baseline: `the same period's work with ${USERS * ACTIVE_PER_USER} active among ${
        USERS * ACTIVE_PER_USER
      }`,
      baseline_value: round(freshMs),
      target: { ratio: 1.2, meaning: "<=" },
      extraChecks: correct && waitOk,
      notes:
        `${counts!.active} active among ${counts!.all} contracts (history built in ${round(historyS)} s); ` +
        `longest money-command wait during the chunked run ${round(chunked.waitMsMax)} ms ` +
        `(${chunks!.chunks} chunks of ~${CHUNK_CONTRACTS} contracts, run ${round(chunked.workMs)} ms, ` +
        `${chunked.rounds} commands) vs ${round(whole.waitMsMax)} ms during a one-transaction period ` +
        `(${
          round(whole.workMs)
        } ms, ${whole.rounds} commands); target < 1000 ms: ${waitOk}; correct=${correct}`,
    });
  } finally {
    await sql.end();
    await scratch.drop();
  }
}
