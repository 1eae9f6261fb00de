// withdraw: concurrent POST /functions/v1/withdrawals from 1,000 KYC-approved users through a gateway of
// our own (limits so high they never trip) over a scratch database, against pgbench's tpcb-like TPS
// on the same cluster in the same run. Target: >= 0.5x, and no negative balance afterwards.
// Each request checks KYC and the balance and moves the money, under the user's lock, in one call.
import { signAccessToken } from "../../supabase/functions/_shared/auth/jwt.ts";
import { tokenConfigFromEnv } from "../../supabase/functions/_shared/auth/config.ts";
import {
  BENCH_SECONDS,
  benchPort,
  type BenchResult,
  closedLoop,
  pgbenchTps,
  result,
  round,
  scratchStack,
} from "../lib.ts";

const USERS = 1000;
const CLIENTS = 16;
const PORT = benchPort(6);
const AMOUNT_MINOR = 1000;

export async function run(): Promise<BenchResult> {
  const baseline = await pgbenchTps(CLIENTS);
  const stack = await scratchStack(PORT, {
    DB_POOL_MAX: String(CLIENTS),
    RATE_LIMIT_API_PER_IP: "999999999/1m",
    RATE_LIMIT_API_PER_USER: "999999999/1h",
  });
  const sql = stack.sql;
  try {
    // Each user: 8% of a 10,000,000 purchase released (800,000 available) and an approved KYC case.
    const users = (await sql<{ id: string }[]>`
      select id from (select test_support.register() as id from generate_series(1, ${USERS})) u,
        lateral (select test_support.fund(u.id, 10000000), test_support.approve_kyc(u.id)) f`).map((r) =>
      r.id
    );
    await sql`vacuum analyze`.simple();
    const config = tokenConfigFromEnv();
    const tokens = await Promise.all(
      users.map((userId) =>
        signAccessToken({ userId, role: "user", sessionId: crypto.randomUUID() }, config, new Date())
      ),
    );
    const url = `http://127.0.0.1:${PORT}/functions/v1/withdrawals`;
    const body = JSON.stringify({
      amountMinor: AMOUNT_MINOR,
      currency: "USD",
      destination: "IBAN DE89 3704 0044 0532 0130 00",
    });
    let refused = 0;
    const measured = await closedLoop(CLIENTS, BENCH_SECONDS, async (_worker, i) => {
      const token = tokens[(i * 7919 + _worker * 104729) % USERS]!;
      const res = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body,
      });
      await res.arrayBuffer();
      if (res.status !== 201) refused++;
    });
    const [check] = await sql<{ negative: number; requested: number; unbalanced: number }[]>`
      select (select count(*)::int from public.user_accounts where available_minor < 0 or in_transit_minor < 0) as negative,
             (select count(*)::int from public.withdrawals) as requested,
             (select count(*)::int from test_support.ledger_violations()) as unbalanced`;
    const correct = check!.negative === 0 && check!.unbalanced === 0 &&
      check!.requested === measured.ops - refused &&
      refused === 0;
    return result({
      scenario: "withdraw",
      metric: "withdrawals_per_second",
      value: round(measured.opsPerSecond),
      unit: "withdrawals/s",
      baseline: `pgbench tpcb-like TPS (${CLIENTS} clients, same cluster)`,
      baseline_value: round(baseline),
      target: { ratio: 0.5, meaning: ">=" },
      extraChecks: correct,
      p50_ms: round(measured.p50Ms, 2),
      p99_ms: round(measured.p99Ms, 2),
      notes:
        `${measured.ops} requests from ${USERS} users, ${refused} refused; ${
          check!.requested
        } withdrawals recorded; ` +
        `negative balances ${check!.negative}; ledger violations ${check!.unbalanced}`,
    });
  } finally {
    await stack.close();
  }
}
