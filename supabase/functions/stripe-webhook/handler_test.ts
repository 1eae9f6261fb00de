// The webhook in-process, against the real local Postgres: purchases are started through POST
// /purchases (fake Stripe API), then Stripe's events are signed and delivered as Stripe would.
import assert from "node:assert/strict";
import {
  chargeRefundedEvent,
  checkoutSessionEvent,
  disputeClosedEvent,
  disputeCreatedEvent,
  randomSuffix,
  signatureFor,
  stripeEvent,
} from "../../../devstack/stripe_test_events.ts";
import {
  buyerUnderChain,
  deliver,
  type MoneyWorld,
  moneyWorld,
  newPackage,
  newUser,
  postPurchase,
  WEBHOOK_SECRET,
} from "../purchases/handler_test_support.ts";
import type { Sql } from "../_shared/infra/db.ts";

type Pending = { purchaseId: string; stripeSessionId: string; amountMinor: number; currency: string };

async function pendingPurchase(world: MoneyWorld, userId: string, packageId: string): Promise<Pending> {
  const res = await postPurchase(world, { userId, body: { packageId } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const session = world.fakeStripe.sessions.get(res.body.stripeSessionId)!;
  return {
    purchaseId: res.body.purchaseId,
    stripeSessionId: res.body.stripeSessionId,
    amountMinor: session.amount_total as number,
    currency: session.currency as string,
  };
}

function paid(p: Pending, paymentIntentId = `pi_test_${randomSuffix()}`) {
  return { ...p, paymentIntentId };
}

async function eventCounts(sql: Sql, purchaseId: string): Promise<Record<string, number>> {
  const rows = await sql<{ type: string; n: number }[]>`
    select type, count(*)::int as n from event_store.events where stream_id = ${
    "purchase-" + purchaseId
  } group by type`;
  return Object.fromEntries(rows.map((r) => [r.type, r.n]));
}

async function recorded(sql: Sql, eventId: string): Promise<string | null> {
  const [row] = await sql<
    { outcome: string }[]
  >`select outcome from money.stripe_events where stripe_event_id = ${eventId}`;
  return row ? row.outcome : null;
}

async function purchaseRow(sql: Sql, purchaseId: string) {
  const [row] = await sql<{ status: string; refunded_minor: number; payment_intent_id: string | null }[]>`
    select status, refunded_minor, payment_intent_id from public.purchases where purchase_id = ${purchaseId}`;
  return row!;
}

/** A paid purchase's ten commissions, level order (asserted: a loop over them never passes on empty). */
async function commissions(sql: Sql, purchaseId: string) {
  const rows = await sql<
    {
      level: number;
      beneficiary_id: string | null;
      rate_bps: number;
      amount_minor: number;
      reversed_minor: number;
      reason: string;
    }[]
  >`
    select level, beneficiary_id, rate_bps, amount_minor, reversed_minor, reason
    from public.commissions where purchase_id = ${purchaseId} order by level`;
  assert.equal(rows.length, 10, `purchase ${purchaseId} has ten commissions`);
  return rows;
}

async function planRates(sql: Sql, vipLevel: number): Promise<Map<number, number>> {
  const rows = await sql<{ level: number; rate_bps: number }[]>`
    select level, rate_bps from money.commission_rates where vip_level = ${vipLevel}`;
  return new Map(rows.map((r) => [r.level, r.rate_bps]));
}

async function assertLedgerBalanced(sql: Sql) {
  const violations = await sql`select * from test_support.ledger_violations()`;
  assert.deepEqual([...violations], []);
}

Deno.test("stripe-webhook", async (t) => {
  const world = moneyWorld();
  const { sql } = world;
  try {
    const packageId = await newPackage(sql, 10000);

    await t.step(
      "the same event delivered 5 times at once makes one purchase with ten commissions",
      async () => {
        const { buyer } = await buyerUnderChain(sql, 10);
        const p = await pendingPurchase(world, buyer, packageId);
        const event = checkoutSessionEvent("checkout.session.completed", paid(p));
        const replies = await Promise.all(Array.from({ length: 5 }, () => deliver(world, event)));
        for (const r of replies) assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(replies.filter((r) => r.body.duplicate === false).length, 1);
        for (const r of replies) {
          assert.deepEqual(r.body, { received: true, outcome: "purchased", duplicate: r.body.duplicate });
        }
        assert.deepEqual(await eventCounts(sql, p.purchaseId), {
          CheckoutStarted: 1,
          Purchased: 1,
          CommissionAccrued: 10,
        });
        assert.equal((await purchaseRow(sql, p.purchaseId)).status, "paid");
        assert.equal(await recorded(sql, event.id), "purchased");
      },
    );

    await t.step("completed and async_payment_succeeded for one session make one purchase", async () => {
      const buyer = await newUser(sql);
      const p = paid(await pendingPurchase(world, buyer, packageId));
      const first = await deliver(world, checkoutSessionEvent("checkout.session.completed", p));
      const second = await deliver(
        world,
        checkoutSessionEvent("checkout.session.async_payment_succeeded", p),
      );
      assert.equal(first.body.outcome, "purchased");
      assert.equal(second.status, 200);
      assert.deepEqual(second.body, { received: true, outcome: "duplicate", duplicate: false });
      assert.equal((await eventCounts(sql, p.purchaseId)).Purchased, 1);
    });

    await t.step("an unpaid completion (async method pending) waits; async success then pays", async () => {
      const buyer = await newUser(sql);
      const p = paid(await pendingPurchase(world, buyer, packageId));
      const unpaid = await deliver(
        world,
        checkoutSessionEvent("checkout.session.completed", { ...p, paymentStatus: "unpaid" }),
      );
      assert.equal(unpaid.body.outcome, "ignored");
      assert.equal((await purchaseRow(sql, p.purchaseId)).status, "pending");
      const later = await deliver(world, checkoutSessionEvent("checkout.session.async_payment_succeeded", p));
      assert.equal(later.body.outcome, "purchased");
    });

    await t.step("async_payment_failed marks the purchase failed; no money moves", async () => {
      const buyer = await newUser(sql);
      const p = paid(await pendingPurchase(world, buyer, packageId));
      const res = await deliver(world, checkoutSessionEvent("checkout.session.async_payment_failed", p));
      assert.equal(res.body.outcome, "failed");
      assert.equal((await purchaseRow(sql, p.purchaseId)).status, "failed");
      assert.deepEqual(await eventCounts(sql, p.purchaseId), { CheckoutStarted: 1, CheckoutFailed: 1 });
    });

    await t.step(
      "a refund delivered before its purchase is applied when the purchase completes",
      async () => {
        const { buyer } = await buyerUnderChain(sql, 2);
        const p = paid(await pendingPurchase(world, buyer, packageId));
        const refund = await deliver(
          world,
          chargeRefundedEvent(p.paymentIntentId, p.amountMinor, p.amountMinor, p.currency),
        );
        assert.equal(refund.body.outcome, "deferred");
        const purchase = await deliver(world, checkoutSessionEvent("checkout.session.completed", p));
        assert.equal(purchase.body.outcome, "purchased");
        const row = await purchaseRow(sql, p.purchaseId);
        assert.equal(row.status, "refunded");
        assert.equal(row.refunded_minor, p.amountMinor);
        for (const c of await commissions(sql, p.purchaseId)) {
          assert.equal(c.reversed_minor, c.amount_minor);
        }
        assert.equal((await eventCounts(sql, p.purchaseId)).PurchaseRefunded, 1);
        await assertLedgerBalanced(sql);
      },
    );

    await t.step(
      "a partial refund reverses each commission in proportion, exact to the minor unit",
      async () => {
        const odd = await newPackage(sql, 9999);
        const { buyer } = await buyerUnderChain(sql, 10);
        const p = paid(await pendingPurchase(world, buyer, odd));
        await deliver(world, checkoutSessionEvent("checkout.session.completed", p));
        const partial = await deliver(world, chargeRefundedEvent(p.paymentIntentId, 9999, 3333, p.currency));
        assert.equal(partial.body.outcome, "refunded");
        const rates = await planRates(sql, 10);
        for (const c of await commissions(sql, p.purchaseId)) {
          const amount = Math.floor(9999 * rates.get(c.level)! / 10000);
          assert.equal(c.amount_minor, amount, `level ${c.level}`);
          assert.equal(c.reversed_minor, Math.floor(amount * 3333 / 9999), `level ${c.level}`);
        }
        const row = await purchaseRow(sql, p.purchaseId);
        assert.deepEqual([row.status, row.refunded_minor], ["partially_refunded", 3333]);
        // Stripe's amount_refunded is cumulative: the rest of the refund reverses the rest exactly.
        await deliver(world, chargeRefundedEvent(p.paymentIntentId, 9999, 9999, p.currency));
        for (const c of await commissions(sql, p.purchaseId)) {
          assert.equal(
            c.reversed_minor,
            c.amount_minor,
          );
        }
        assert.equal((await purchaseRow(sql, p.purchaseId)).status, "refunded");
        await assertLedgerBalanced(sql);
      },
    );

    await t.step("a buyer under a chain of 12 pays exactly ten levels at the plan's rates", async () => {
      const { uplines, buyer } = await buyerUnderChain(sql, 12);
      const p = paid(await pendingPurchase(world, buyer, packageId));
      await deliver(world, checkoutSessionEvent("checkout.session.completed", p));
      const rows = await commissions(sql, p.purchaseId);
      const rates = await planRates(sql, 10);
      assert.deepEqual(rows.map((c) => c.level), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      for (const c of rows) {
        assert.equal(
          c.beneficiary_id,
          uplines[uplines.length - c.level],
          `level ${c.level} is the ${c.level}th upline`,
        );
        assert.equal(c.rate_bps, rates.get(c.level));
        assert.equal(c.amount_minor, Math.floor(10000 * rates.get(c.level)! / 10000));
        assert.equal(c.reason, "earned");
      }
      const [top] = await sql<{ n: number }[]>`
        select count(*)::int as n from public.commissions where beneficiary_id = any(${
        uplines.slice(0, 2)
      }::uuid[])
          and purchase_id = ${p.purchaseId}`;
      assert.equal(top!.n, 0, "the two uplines above level 10 earn nothing");
    });

    await t.step(
      "a buyer under a chain of 3 pays three levels to users and seven to the platform",
      async () => {
        const { uplines, buyer } = await buyerUnderChain(sql, 3);
        const p = paid(await pendingPurchase(world, buyer, packageId));
        await deliver(world, checkoutSessionEvent("checkout.session.completed", p));
        const rows = await commissions(sql, p.purchaseId);
        assert.equal(rows.length, 10);
        assert.deepEqual(rows.slice(0, 3).map((c) => c.beneficiary_id), [...uplines].reverse());
        for (const c of rows.slice(3)) {
          assert.equal(c.beneficiary_id, null);
          assert.equal(c.reason, "no_upline");
        }
        await assertLedgerBalanced(sql);
      },
    );

    await t.step("a dispute reverses the whole purchase", async () => {
      const { buyer } = await buyerUnderChain(sql, 1);
      const p = paid(await pendingPurchase(world, buyer, packageId));
      await deliver(world, checkoutSessionEvent("checkout.session.completed", p));
      const res = await deliver(world, disputeCreatedEvent(p.paymentIntentId, p.amountMinor, p.currency));
      assert.equal(res.body.outcome, "disputed");
      assert.equal((await purchaseRow(sql, p.purchaseId)).status, "disputed");
    });

    await t.step(
      "a dispute closed as won restores the purchase once; closed as lost changes nothing",
      async () => {
        const { buyer } = await buyerUnderChain(sql, 1);
        const p = paid(await pendingPurchase(world, buyer, packageId));
        await deliver(world, checkoutSessionEvent("checkout.session.completed", p));
        const lost = paid(await pendingPurchase(world, buyer, packageId));
        await deliver(world, checkoutSessionEvent("checkout.session.completed", lost));
        for (const [purchase, dispute] of [[p, "dp_won"], [lost, "dp_lost"]] as const) {
          const id = `${dispute}_${purchase.purchaseId}`;
          await deliver(
            world,
            disputeCreatedEvent(purchase.paymentIntentId, purchase.amountMinor, purchase.currency, id),
          );
        }
        const won = disputeClosedEvent(
          `dp_won_${p.purchaseId}`,
          p.paymentIntentId,
          p.amountMinor,
          p.currency,
          "won",
        );
        assert.equal((await deliver(world, won)).body.outcome, "dispute_won");
        assert.equal((await deliver(world, won)).body.duplicate, true);
        const again = disputeClosedEvent(
          `dp_won_${p.purchaseId}`,
          p.paymentIntentId,
          p.amountMinor,
          p.currency,
          "won",
        );
        assert.equal((await deliver(world, again)).body.outcome, "no_change");
        assert.equal((await purchaseRow(sql, p.purchaseId)).status, "paid");
        const closedLost = disputeClosedEvent(
          `dp_lost_${lost.purchaseId}`,
          lost.paymentIntentId,
          lost.amountMinor,
          lost.currency,
          "lost",
        );
        assert.equal((await deliver(world, closedLost)).body.outcome, "ignored");
        assert.equal((await purchaseRow(sql, lost.purchaseId)).status, "disputed");
        await assertLedgerBalanced(sql);
      },
    );

    await t.step(
      "a bad, missing, tampered, stale or foreign signature is 400 and records nothing",
      async () => {
        const buyer = await newUser(sql);
        const p = paid(await pendingPurchase(world, buyer, packageId));
        const event = checkoutSessionEvent("checkout.session.completed", p);
        const tampered = JSON.stringify(event).replace(`"amount_total":${p.amountMinor}`, `"amount_total":1`);
        const deliveries = [
          { signature: null },
          { signature: "" },
          { signature: "t=1,v1=00" },
          { signature: "complete garbage" },
          { payload: tampered },
          { timestamp: Math.floor(Date.now() / 1000) - 600 },
          { secret: "whsec_someone_else" },
        ];
        for (const d of deliveries) {
          const res = await deliver(world, event, d);
          assert.equal(res.status, 400, JSON.stringify(d));
          assert.equal(res.body.code, "invalid_signature");
          assert.equal(res.headers.get("content-type"), "application/problem+json");
        }
        assert.equal(await recorded(sql, event.id), null);
        assert.equal((await purchaseRow(sql, p.purchaseId)).status, "pending");
        // The genuine delivery still works afterwards.
        assert.equal((await deliver(world, event)).body.outcome, "purchased");
      },
    );

    await t.step("a signed event we cannot use is recorded as ignored (200), never a 500", async () => {
      const odd = [
        stripeEvent("checkout.session.completed", { object: "checkout.session", payment_status: 7 }),
        stripeEvent("checkout.session.completed", {
          object: "checkout.session",
          payment_status: "paid",
          metadata: { purchase_id: "not-a-uuid" },
          amount_total: 100,
          currency: "usd",
        }),
        stripeEvent("charge.refunded", { object: "charge", amount_refunded: -5, currency: "usd" }),
        stripeEvent("charge.dispute.closed", { object: "dispute", status: "won" }),
        stripeEvent("customer.created", { object: "customer" }),
      ];
      const outcomes = [];
      for (const event of odd) {
        const res = await deliver(world, event);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        outcomes.push(await recorded(sql, event.id));
      }
      assert.deepEqual(outcomes, ["ignored", "unknown_purchase", "ignored", "ignored", "ignored"]);
    });

    await t.step("a signed body that is not an event is a 4xx", async () => {
      for (const payload of ["{not json", JSON.stringify({ hello: "world" }), "[]"]) {
        const signature = await signatureFor(payload, WEBHOOK_SECRET);
        const res = await deliver(world, null, { payload, signature });
        assert.equal(res.status, 400, payload);
      }
    });

    await t.step("a database failure is a 5xx, so Stripe retries", async () => {
      const buyer = await newUser(sql);
      const p = paid(await pendingPurchase(world, buyer, packageId));
      const event = checkoutSessionEvent("checkout.session.completed", p);
      const broken = moneyWorld();
      await broken.sql.end();
      const res = await deliver(broken, event);
      await broken.fakeStripe.close();
      assert.ok(res.status >= 500, String(res.status));
      assert.equal(await recorded(sql, event.id), null);
      assert.equal((await deliver(world, event)).body.outcome, "purchased");
    });
  } finally {
    await world.close();
  }
});
