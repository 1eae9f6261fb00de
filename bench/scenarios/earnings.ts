// earnings: accrue one hour period over 1,000,000 active contracts held by 250,000 users, against a raw
// INSERT ... SELECT of 1,000,000 rows of the same shape (one accrual row per contract, as a naive
// design would write) into a table with the ledger's indexes, in the same database in the same run.
// Target: at most 3x the raw insert's time (our goal 2x).
//
// Setup writes the contracts and accounts straight into their projection tables of a scratch database
// (a million purchases through the command path would take the benchmark's whole budget); what is
// measured is the production path: money.accrue_due_earnings appending EarningsAccrued and projecting it.
import { createSql } from "../../supabase/functions/_shared/infra/db.ts";
import { type BenchResult, result, round, scratchDatabase } from "../lib.ts";

const USERS = Number(Deno.env.get("BENCH_EARNINGS_USERS") ?? 250_000);
const CONTRACTS_PER_USER = 4;

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
      from public.user_accounts a, generate_series(1, ${CONTRACTS_PER_USER}) n`;
    await sql`vacuum analyze public.contracts`.simple();
    await sql`vacuum analyze public.user_accounts`.simple();
    await sql`create table bench_accruals (like public.ledger_entries including all)`;
    await sql`checkpoint`.simple();

    // Baseline: one row per contract for the period, computed the same way.
    const baselineStarted = performance.now();
    await sql`
      insert into bench_accruals (event_position, line, account, user_id, amount_minor, balance_before_minor,
        balance_after_minor, currency, event_type, reference_id, recorded_at)
      select 1, row_number() over (), 'user:available', user_id, total_yield_minor / 720 + 1, 0, total_yield_minor / 720 + 1,
             currency, 'EarningsAccrued', contract_id, now()
      from public.contracts`;
    const baselineMs = performance.now() - baselineStarted;
    await sql`checkpoint`.simple();

    const started = performance.now();
    const [outcome] = await sql<{ r: { periods: number; contracts: number; totalMinor: number } }[]>`
      select money.accrue_due_earnings(${new Date(startsAt.getTime() + 3600_000)}) as r`;
    const accrualMs = performance.now() - started;
    const [check] = await sql<{ users: number; entries: number; sum: number }[]>`
      select (select count(*) from public.user_accounts where earned_minor > 0)::int as users,
             (select count(*) from public.ledger_entries where event_type = 'EarningsAccrued')::int as entries,
             (select sum(amount_minor) from public.ledger_entries where event_type = 'EarningsAccrued')::bigint as sum`;
    const contracts = outcome!.r.contracts;
    const correct = outcome!.r.periods === 1 && contracts === USERS * CONTRACTS_PER_USER &&
      check!.users === USERS &&
      check!.entries === USERS + 1 && check!.sum === 0;
    return result({
      scenario: "earnings",
      metric: "one_period_ms",
      value: round(accrualMs),
      unit: "ms",
      baseline: `raw INSERT ... SELECT of ${contracts} accrual rows into a table with the ledger's indexes`,
      baseline_value: round(baselineMs),
      target: { ratio: 3, meaning: "<=" },
      extraChecks: correct,
      notes:
        `${
          Math.round(contracts / (accrualMs / 1000))
        } contracts/s; ${contracts} contracts, ${USERS} users, ` +
        `${check!.entries} ledger entries (one per user + the expense line), entries sum ${
          check!.sum
        }; correct=${correct}`,
    });
  } finally {
    await sql.end();
    await scratch.drop();
  }
}
