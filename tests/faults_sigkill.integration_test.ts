// The functions' process SIGKILLed in the middle of purchase webhooks, then Stripe retrying them:
// exactly one purchase per checkout. On a private stack (its own cluster, Redis and gateway).
//
// "In the middle", deterministically: a session holds `LOCK TABLE public.ledger_entries IN EXCLUSIVE
// MODE`, so each webhook's transaction (money.handle_stripe_event: the Stripe event recorded and the
// purchase's events appended, then the ledger) stops at its first ledger write. Once every connection of
// the gateway's pool shows such a wait in pg_stat_activity (and the other deliveries queue in the
// pool), the gateway is SIGKILLed and the lock released. The orphaned transactions then commit or roll
// back on their own (the client is gone); the deliveries queued in the dead process never reached the
// database. Stripe saw no 2xx for any of them and redelivers every event, some twice at once.
import assert from "node:assert/strict";
import { checkoutSessionEvent } from "../devstack/stripe_test_events.ts";
import { deliverWebhook, moneyViolations, privateStack } from "./fault_support.ts";
import { waitFor } from "./local_redis.ts";

const CHECKOUTS = 30;
const POOL = 10;

Deno.test("the function process SIGKILLed mid-purchase, Stripe retries: exactly one purchase per checkout", async () => {
  const stack = await privateStack({ DB_POOL_MAX: String(POOL) });
  const { sql, cluster, gateway } = stack;
  try {
    const [uplines] = await sql<{ ids: string[] }[]>`select test_support.chain(3) as ids`;
    for (const id of uplines!.ids) await sql`select test_support.set_vip(${id}, 3)`;
    const [made] = await sql<{ id: string }[]>`select test_support.package(10000, 100, 30) as id`;
    const [pkg] = await sql<{ currency: string; price: number }[]>`
      select currency, price_minor as price from public.packages where package_id = ${made!.id}`;
    const deliveries: { purchaseId: string; payload: string }[] = [];
    for (let i = 0; i < CHECKOUTS; i++) {
      const [buyer] = await sql<{ id: string }[]>`select test_support.register(${uplines!.ids[2]!}) as id`;
      const purchaseId = crypto.randomUUID();
      const session = `cs_kill_${purchaseId}`;
      await sql`select money.start_checkout(${purchaseId}, ${buyer!.id}, ${made!.id}, ${session})`;
      const event = checkoutSessionEvent("checkout.session.completed", {
        purchaseId,
        stripeSessionId: session,
        amountMinor: pkg!.price,
        currency: pkg!.currency,
        paymentIntentId: `pi_kill_${purchaseId}`,
      });
      deliveries.push({ purchaseId, payload: JSON.stringify(event) });
    }

    const holder = cluster.sql(1);
    const inFlight: Promise<string>[] = [];
    await holder.begin(async (tx) => {
      await tx`lock table public.ledger_entries in exclusive mode`;
      for (const d of deliveries) {
        // What the client (Stripe) saw: an answer, or the connection dying with the process.
        inFlight.push(deliverWebhook(gateway.fn, d.payload).then((r) => String(r.status), () => "no answer"));
      }
      await waitFor(
        async () => {
          const [row] = await sql<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity
          where wait_event_type = 'Lock' and query like '%handle_stripe_event%' and pid <> pg_backend_pid()`;
          return row!.n === POOL;
        },
        "every connection of the gateway to wait inside a purchase",
        60_000,
      );
      await gateway.kill();
    });
    await holder.end();
    const seen = await Promise.all(inFlight);
    assert.deepEqual([...new Set(seen)], ["no answer"], "the process died before answering any delivery");

    // The orphaned transactions end on their own; then Stripe's retries reach the restarted process.
    await waitFor(
      async () => {
        const [row] = await sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity
        where query like '%handle_stripe_event%' and state = 'active' and pid <> pg_backend_pid()`;
        return row!.n === 0;
      },
      "the orphaned transactions to end",
      30_000,
    );
    const [orphans] = await sql<{ n: number }[]>`select count(*)::int as n from money.stripe_events`;
    console.log(
      `purchases the killed process's transactions committed anyway: ${orphans!.n} of ${CHECKOUTS}`,
    );
    await gateway.restart();
    const retries = await Promise.all(
      deliveries.flatMap((d) => [d, d]).map(async (d) => {
        const res = await deliverWebhook(gateway.fn, d.payload);
        return { status: res.status, body: await res.json() };
      }),
    );
    assert.deepEqual(retries.filter((r) => r.status !== 200), [], "every redelivery answered 200");
    const fresh = retries.filter((r) => r.body.duplicate === false).length;
    assert.equal(fresh, CHECKOUTS - orphans!.n, "each checkout recorded by exactly one delivery");

    const [counts] = await sql<{ purchased: number; streams: number; paid: number }[]>`
      select count(*)::int as purchased, count(distinct stream_id)::int as streams,
             (select count(*) from public.purchases where purchase_id = any(${
      deliveries.map((d) => d.purchaseId)
    }::uuid[])
                and status = 'paid')::int as paid
      from event_store.events
      where type = 'Purchased' and stream_id = any(${deliveries.map((d) => `purchase-${d.purchaseId}`)})`;
    assert.deepEqual(
      counts,
      { purchased: CHECKOUTS, streams: CHECKOUTS, paid: CHECKOUTS },
      "one purchase per checkout",
    );
    assert.deepEqual(await moneyViolations(sql), []);
  } finally {
    await stack.close();
  }
});
