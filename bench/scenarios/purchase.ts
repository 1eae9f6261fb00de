// purchase: signed checkout.session.completed webhooks through HTTP (a gateway of our own over a
// scratch database) for buyers at depth >= 10 in a 100,000-user tree, against pgbench's tpcb-like TPS
// on the same cluster in the same run. Target: >= 0.4x, and p99 under 50 ms at half that rate.
// Each webhook is a whole purchase: Purchased, the contract, ten CommissionAccrued, the ledger.
import { checkoutSessionEvent, signatureFor } from "../../devstack/stripe_test_events.ts";
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

const CHAINS = Number(Deno.env.get("BENCH_PURCHASE_CHAINS") ?? 1000);
const CHAIN_LENGTH = 100;
const CLIENTS = 16;
const PORT = benchPort(5);
const SECRET = Deno.env.get("STRIPE_WEBHOOK_SECRET") ?? "whsec_local_development_secret";

type Pending = { purchase_id: string; stripe_session_id: string; amount_minor: number };

export async function run(): Promise<BenchResult> {
  const baseline = await pgbenchTps(CLIENTS);
  const stack = await scratchStack(PORT, { DB_POOL_MAX: String(CLIENTS) });
  const sql = stack.sql;
  try {
    await sql`create table chains as select test_support.chain(${CHAIN_LENGTH}) as c from generate_series(1, ${CHAINS})`;
    const [pkg] = await sql<{ id: string }[]>`select test_support.package(10000, 80, 30) as id`;
    // Every user from depth 11 down has ten uplines; enough pending checkouts for the whole run.
    const needed = Math.min(CHAINS * (CHAIN_LENGTH - 10), 200_000);
    // One statement per depth: a checkout takes its buyer's advisory lock until commit, and 90,000 of
    // them in one transaction would overflow the lock table (max_locks_per_transaction).
    for (let i = 0; i < Math.ceil(needed / CHAINS); i++) {
      await sql`
        select money.start_checkout(gen_random_uuid(), c[11 + (${i}::int % (${CHAIN_LENGTH} - 10))], ${
        pkg!.id
      },
                                    'cs_bench_' || gen_random_uuid())
        from chains`;
    }
    await sql`vacuum analyze`.simple();
    // Shuffled: buyers in one chain share uplines, whose row locks would serialise neighbours.
    const pending = await sql<
      Pending[]
    >`select purchase_id, stripe_session_id, amount_minor from public.purchases where status = 'pending' order by random()`;
    let next = 0;
    const url = `http://127.0.0.1:${PORT}/functions/v1/stripe-webhook`;
    const send = async () => {
      const p = pending[next++];
      if (!p) throw new Error("ran out of pending purchases");
      const payload = JSON.stringify(checkoutSessionEvent("checkout.session.completed", {
        purchaseId: p.purchase_id,
        stripeSessionId: p.stripe_session_id,
        amountMinor: p.amount_minor,
        currency: "usd",
        paymentIntentId: `pi_bench_${p.purchase_id}`,
      }));
      const res = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "stripe-signature": await signatureFor(payload, SECRET),
        },
        body: payload,
      });
      const body = await res.json();
      if (res.status !== 200 || body.outcome !== "purchased") {
        throw new Error(`webhook: ${res.status} ${JSON.stringify(body)}`);
      }
    };
    const saturated = await closedLoop(CLIENTS, BENCH_SECONDS, send);

    // Latency at half the saturated rate: an open loop that starts requests on a fixed schedule.
    const halfRate = saturated.opsPerSecond / 2;
    const latencies: number[] = [];
    const inFlight: Promise<void>[] = [];
    const started = performance.now();
    const total = Math.floor(halfRate * Math.min(BENCH_SECONDS, 5));
    for (let i = 0; i < total; i++) {
      const due = started + (i / halfRate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inFlight.push((async () => {
        const t0 = performance.now();
        await send();
        latencies.push(performance.now() - t0);
      })());
    }
    await Promise.all(inFlight);
    latencies.sort((a, b) => a - b);
    // p50 and p99 both from this half-rate run (the saturated run's own are in the notes).
    const p50AtHalf = latencies[Math.floor(latencies.length * 0.5)] ?? NaN;
    const p99AtHalf = latencies[Math.floor(latencies.length * 0.99)] ?? NaN;

    const [check] = await sql<{ purchased: number; commissions: number; violations: number }[]>`
      select (select count(*)::int from event_store.events where type = 'Purchased') as purchased,
             (select count(*)::int from event_store.events where type = 'CommissionAccrued') as commissions,
             (select count(*)::int from test_support.ledger_violations()) as violations`;
    const sent = next;
    const correct = check!.purchased === sent && check!.commissions === sent * 10 && check!.violations === 0;
    return result({
      scenario: "purchase",
      metric: "purchases_per_second",
      value: round(saturated.opsPerSecond),
      unit: "purchases/s",
      baseline: `pgbench tpcb-like TPS (${CLIENTS} clients, same cluster)`,
      baseline_value: round(baseline),
      target: { ratio: 0.4, meaning: ">=" },
      extraChecks: p99AtHalf < 50 && correct,
      p50_ms: round(p50AtHalf, 2),
      p99_ms: round(p99AtHalf, 2),
      notes:
        `p50 ${round(p50AtHalf, 2)} ms, p99 ${round(p99AtHalf, 2)} ms at half rate (${
          round(halfRate)
        }/s; target ` +
        `p99 < 50 ms); saturated p50 ${round(saturated.p50Ms, 2)} ms, p99 ${
          round(saturated.p99Ms, 2)
        } ms at ` +
        `${CLIENTS} connections; ${CHAINS * CHAIN_LENGTH} users; ` +
        `${sent} webhooks -> ${check!.purchased} Purchased, ${
          check!.commissions
        } CommissionAccrued, ledger violations ${check!.violations}`,
    });
  } finally {
    await stack.close();
  }
}
