// Property test of the money core: random sequences of signups, checkouts, duplicate and reordered
// webhooks, refunds, disputes and releases, with every invariant checked after every step. Runs on a
// scratch database so each rebuild check replays only this test's events. Set PROPERTY_SEED to replay
// a failing sequence; PROPERTY_STEPS to run longer.
import assert from "node:assert/strict";
import { createSql, type Sql } from "../supabase/functions/_shared/infra/db.ts";
import { scratchDatabase } from "./scratch_db.ts";
import { moneyViolations, rebuildViolations } from "./simulation/invariants.ts";
import { prng } from "./simulation/prng.ts";

type World = {
  users: string[];
  packages: { id: string; price: number }[];
  purchases: { id: string; price: number }[];
  eventIds: string[];
};

// The invariants live in tests/simulation/invariants.ts, shared with the simulator; here the rebuild
// check runs after every step too (the runs are short).
async function violations(sql: Sql): Promise<string[]> {
  return [...await moneyViolations(sql), ...await rebuildViolations(sql)];
}

Deno.test("random money histories keep every invariant, and rebuild to the live projections", async () => {
  const seed = Number(Deno.env.get("PROPERTY_SEED") ?? Math.floor(Math.random() * 2 ** 31));
  const steps = Number(Deno.env.get("PROPERTY_STEPS") ?? 120);
  // Printed first, so a failure of any kind (an SQL error included) can be replayed.
  console.log(`PROPERTY_SEED=${seed} PROPERTY_STEPS=${steps}`);
  const random = prng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
  const scratch = await scratchDatabase();
  const sql = createSql(scratch.url, 2);
  const world: World = { users: [], packages: [], purchases: [], eventIds: [] };
  const log: string[] = [];
  try {
    for (const price of [999, 12_345, 123_457]) {
      const [row] = await sql<{ id: string }[]>`select test_support.package(${price}, 90, 10) as id`;
      world.packages.push({ id: row!.id, price });
    }
    // The last quarter runs after two days of earnings: no new payments (contracts bought then would
    // start inside accrued periods), only refunds, disputes, won disputes and releases of what stands.
    const settleAt = Math.floor(steps * 0.75);
    for (let step = 0; step < steps; step++) {
      if (step === settleAt) {
        await sql`select money.accrue_due_earnings(now() + interval '48 hours', 1000)`;
        log.push("earnings to +48h");
      }
      const r = step < settleAt ? random() : 0.65 + random() * 0.35;
      if (world.users.length < 3 || r < 0.2) {
        const referrer = world.users.length > 0 && random() < 0.9 ? pick(world.users) : null;
        const [row] = await sql<{ id: string }[]>`select test_support.register(${referrer}) as id`;
        world.users.push(row!.id);
        log.push(`signup under ${referrer}`);
      } else if (r < 0.4) {
        const pkg = pick(world.packages);
        const purchaseId = crypto.randomUUID();
        const buyer = pick(world.users);
        const started = await sql`select money.start_checkout(${purchaseId}, ${buyer}, ${pkg.id}, ${
          "cs_" + purchaseId
        })`.then(() => true, (error) => {
          // A frozen buyer is refused (MO413); anything else is a failure of the test.
          if ((error as { code?: string }).code !== "MO413") throw error;
          return false;
        });
        if (started) world.purchases.push({ id: purchaseId, price: pkg.price });
        log.push(`checkout ${purchaseId} by ${buyer}: ${started ? "started" : "refused, frozen"}`);
      } else if (r < 0.65 && world.purchases.length > 0) {
        // A payment webhook: new, a redelivery of an earlier event, or the other event type of the session.
        const redeliver = world.eventIds.length > 0 && random() < 0.3;
        const eventId = redeliver ? pick(world.eventIds) : `evt_${crypto.randomUUID()}`;
        const purchase = pick(world.purchases);
        const command = {
          kind: "payment_succeeded",
          purchaseId: purchase.id,
          paymentIntentId: `pi_${purchase.id}`,
          amountMinor: purchase.price,
          currency: "usd",
        };
        const type = random() < 0.5
          ? "checkout.session.completed"
          : "checkout.session.async_payment_succeeded";
        const [out] = await sql<{ r: unknown }[]>`select money.handle_stripe_event(${eventId}, ${type}, ${
          sql.json(command)
        }) as r`;
        world.eventIds.push(eventId);
        log.push(`pay ${purchase.id} via ${eventId}: ${JSON.stringify(out!.r)}`);
      } else if (r < 0.8 && world.purchases.length > 0) {
        // A refund or dispute, possibly before the purchase it refunds has landed.
        const purchase = pick(world.purchases);
        const dispute = random() < 0.2;
        const refunded = Math.max(1, Math.floor(random() * purchase.price * 1.1));
        const command = dispute
          ? {
            kind: "dispute",
            paymentIntentId: `pi_${purchase.id}`,
            disputeId: `dp_${purchase.id}`,
            currency: "usd",
          }
          : {
            kind: "refund",
            paymentIntentId: `pi_${purchase.id}`,
            refundedTotalMinor: refunded,
            currency: "usd",
          };
        const eventId = `evt_${crypto.randomUUID()}`;
        const [out] = await sql<{ r: unknown }[]>`select money.handle_stripe_event(${eventId}, ${
          dispute ? "charge.dispute.created" : "charge.refunded"
        }, ${sql.json(command)}) as r`;
        log.push(`${dispute ? "dispute" : `refund ${refunded}`} ${purchase.id}: ${JSON.stringify(out!.r)}`);
      } else if (r < 0.85 && world.purchases.length > 0) {
        // The dispute closed as won: before or after its dispute.created, or for no dispute at all.
        const purchase = pick(world.purchases);
        const command = {
          kind: "dispute_won",
          paymentIntentId: `pi_${purchase.id}`,
          disputeId: `dp_${purchase.id}`,
          currency: "usd",
        };
        const [out] = await sql<
          { r: unknown }[]
        >`select money.handle_stripe_event(${`evt_${crypto.randomUUID()}`},
          'charge.dispute.closed', ${sql.json(command)}) as r`;
        log.push(`dispute won ${purchase.id}: ${JSON.stringify(out!.r)}`);
      } else if (random() < 0.3) {
        // An admin freezes or unfreezes someone: releases and credits to them are held meanwhile.
        const user = pick(world.users);
        const [out] = await sql<{ r: { frozen: boolean } }[]>`
          select money.set_account_frozen(${user}, test_support.admin(),
            case when money.is_frozen(${user}) then 'unfreeze' else 'freeze' end,
            case when money.is_frozen(${user}) then 'review_cleared' else 'fraud_suspected' end) as r`;
        log.push(`${out!.r.frozen ? "freeze" : "unfreeze"} ${user}`);
      } else {
        const days = Math.floor(random() * 30);
        await sql`select money.release_due_commissions(now() + make_interval(days => ${days}))`;
        log.push(`release +${days}d`);
      }
      const found = await violations(sql);
      assert.deepEqual(found, [], `seed ${seed}, step ${step}:\n${log.slice(-8).join("\n")}`);
    }
    const [summary] = await sql<{ paid: number; reversed: number; released: number }[]>`
      select (select count(*)::int from public.purchases where status <> 'pending') as paid,
             (select count(*)::int from public.commissions where reversed_minor > 0) as reversed,
             (select count(*)::int from public.commissions where status = 'released') as released`;
    assert.ok(summary!.paid > 0, `seed ${seed}: the sequence paid for something`);
    const [paths] = await sql<{ earned: number; clawed: number }[]>`
      select (select count(*)::int from public.earnings_periods where total_minor > 0) as earned,
             (select count(*)::int from event_store.events where type = 'EarningsReversed') as clawed`;
    console.log(`seed ${seed}: ${JSON.stringify({ ...summary, ...paths })}`);
  } finally {
    await sql.end();
    await scratch.drop();
  }
});
