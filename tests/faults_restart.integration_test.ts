// Postgres restarted (fast shutdown, then start) in the middle of a stream of 500 Stripe webhook
// deliveries and 200 withdrawals through the functions gateway, all on a private stack. Afterwards:
// every request answered 2xx has its effect in the database; every request that failed is answered
// 503 (never a 500) and, retried as its client retries (Stripe redelivers the same event; the app sends
// the same Idempotency-Key and body), completes exactly once; the money invariants hold.
import assert from "node:assert/strict";
import { checkoutSessionEvent } from "../devstack/stripe_test_events.ts";
import { accessTokenFor, deliverWebhook, moneyViolations, privateStack } from "./fault_support.ts";
import { prng } from "./simulation/prng.ts";
import { waitFor } from "./local_redis.ts";
import { fetchFrom, loopbackIp } from "./support.ts";

const CHECKOUTS = 250; // each delivered twice: 500 deliveries
const WITHDRAWERS = 20;
const WITHDRAWALS_EACH = 10; // 200 withdrawals
const WITHDRAWAL_MINOR = 1000;
const WORKERS = 8;
const SEED = 13;

type Job =
  | { kind: "webhook"; purchaseId: string; eventId: string; payload: string }
  | { kind: "withdrawal"; userId: string; token: string; key: string; body: string };

Deno.test("Postgres restarted mid-stream of 500 webhooks and 200 withdrawals: every 2xx is there, every failure completes once on retry", async () => {
  const stack = await privateStack();
  const { sql, cluster, gateway } = stack;
  try {
    // World: a package; 50 buyers under a VIP chain with 5 checkouts each; 20 KYC-approved users with funds.
    const [uplines] = await sql<{ ids: string[] }[]>`select test_support.chain(3) as ids`;
    for (const id of uplines!.ids) await sql`select test_support.set_vip(${id}, 3)`;
    const [made] = await sql<{ id: string }[]>`select test_support.package(10000, 100, 30) as id`;
    const [world] = await sql<{ pkg: string; currency: string; price: number }[]>`
      select package_id as pkg, currency, price_minor as price from public.packages where package_id = ${
      made!.id
    }`;
    const { pkg, currency, price } = world!;
    const buyers = await sql<{ id: string }[]>`
      select test_support.register(${uplines!.ids[2]!}) as id from generate_series(1, 50)`;
    const jobs: Job[] = [];
    for (let i = 0; i < CHECKOUTS; i++) {
      const purchaseId = crypto.randomUUID();
      const session = `cs_restart_${purchaseId}`;
      await sql`select money.start_checkout(${purchaseId}, ${
        buyers[i % buyers.length]!.id
      }, ${pkg}, ${session})`;
      const event = checkoutSessionEvent("checkout.session.completed", {
        purchaseId,
        stripeSessionId: session,
        amountMinor: price,
        currency,
        paymentIntentId: `pi_restart_${purchaseId}`,
      });
      const payload = JSON.stringify(event);
      // Stripe delivers at least once: every event twice, the second often while the first is in flight.
      jobs.push({ kind: "webhook", purchaseId, eventId: event.id, payload });
      jobs.push({ kind: "webhook", purchaseId, eventId: event.id, payload });
    }
    for (let u = 0; u < WITHDRAWERS; u++) {
      const [user] = await sql<{ id: string }[]>`select test_support.register() as id`;
      const userId = user!.id;
      await sql`select test_support.approve_kyc(${userId})`;
      await sql`select test_support.fund(${userId}, 200000)`;
      const [account] = await sql<{ available: number }[]>`
        select available_minor as available from public.user_accounts where user_id = ${userId}`;
      assert.ok(account!.available >= WITHDRAWALS_EACH * WITHDRAWAL_MINOR, "funded for every withdrawal");
      const token = await accessTokenFor(userId);
      for (let w = 0; w < WITHDRAWALS_EACH; w++) {
        const body = JSON.stringify({
          amountMinor: WITHDRAWAL_MINOR,
          currency,
          destination: `acct-${u}-${w}`,
        });
        jobs.push({ kind: "withdrawal", userId, token, key: `restart-${crypto.randomUUID()}`, body });
      }
    }
    // A seeded interleaving of both streams.
    const random = prng(SEED);
    for (let i = jobs.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [jobs[i], jobs[j]] = [jobs[j]!, jobs[i]!];
    }

    const send = async (job: Job): Promise<{ status: number; body: string }> => {
      const res = job.kind === "webhook"
        ? await deliverWebhook(gateway.fn, job.payload)
        : await fetchFrom(loopbackIp(), gateway.fn("withdrawals"), {
          method: "POST",
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${job.token}`,
            "idempotency-key": job.key,
          },
          body: job.body,
        });
      return { status: res.status, body: await res.text() };
    };

    // The stream, with the restart in its middle: after a third of the requests the cluster stops
    // (fast: every session ended, open transactions rolled back); the stream goes on; once requests have
    // failed against the stopped cluster, it starts again, and the rest of the stream runs.
    const first: ({ status: number; body: string } | undefined)[] = new Array(jobs.length);
    let next = 0;
    let failures = 0;
    let restart: Promise<void> | undefined;
    const worker = async () => {
      while (next < jobs.length) {
        const index = next++;
        if (index === Math.floor(jobs.length / 3)) {
          restart = (async () => {
            await cluster.stop();
            await waitFor(
              () => Promise.resolve(failures >= 2 * WORKERS),
              "requests to fail while Postgres is down",
              60_000,
            );
            await cluster.start();
          })();
        }
        const result = await send(jobs[index]!);
        first[index] = result;
        if (result.status >= 300) failures++;
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    await restart;
    await cluster.waitUntilAccepting();

    const statuses = new Map<number, number>();
    for (const r of first) statuses.set(r!.status, (statuses.get(r!.status) ?? 0) + 1);
    console.log(`first answers by status: ${JSON.stringify(Object.fromEntries(statuses))}`);
    const unexpected = jobs.flatMap((j, i) =>
      [200, 201, 503].includes(first[i]!.status) ? [] : [`${j.kind} ${first[i]!.status} ${first[i]!.body}`]
    );
    assert.deepEqual(unexpected, [], "only 2xx and 503 (the database is down), never a 500");
    assert.ok((statuses.get(503) ?? 0) > 0, "requests failed while Postgres was down");

    // Every 2xx is in the database.
    const okWebhooks = jobs.filter((j, i) => j.kind === "webhook" && first[i]!.status === 200);
    const okWithdrawals = jobs.flatMap((j, i) =>
      j.kind === "withdrawal" && first[i]!.status === 201 ? [JSON.parse(first[i]!.body).id as string] : []
    );
    const [seen] = await sql<{ events: number; withdrawals: number }[]>`
      select (select count(distinct stripe_event_id) from money.stripe_events
              where stripe_event_id = any(${
      okWebhooks.map((j) => (j as { eventId: string }).eventId)
    }))::int as events,
             (select count(*) from public.withdrawals where withdrawal_id = any(${okWithdrawals}::uuid[]))::int
               as withdrawals`;
    assert.equal(seen!.events, new Set(okWebhooks.map((j) => (j as { eventId: string }).eventId)).size);
    assert.equal(seen!.withdrawals, new Set(okWithdrawals).size);
    assert.equal(okWithdrawals.length, new Set(okWithdrawals).size, "each 201 a different withdrawal");

    // Every failure retried as its client would, until it answers 2xx (bounded). A withdrawal whose
    // claim was left in progress by the restart answers 409 until the claim is stale (60 s); the test
    // ages such claims instead of sleeping a minute, which is what a client retrying later sees.
    const retried = jobs.filter((_, i) => first[i]!.status >= 300);
    const final = new Map<Job, { status: number; body: string }>();
    const retryStatuses = new Map<number, number>();
    for (let round = 0; round < 5 && final.size < retried.length; round++) {
      for (const job of retried) {
        if (final.has(job)) continue;
        const result = await send(job);
        retryStatuses.set(result.status, (retryStatuses.get(result.status) ?? 0) + 1);
        if (result.status < 300) final.set(job, result);
      }
      await sql`update private.idempotent_requests set claimed_at = claimed_at - interval '61 seconds'
                where state = 'in_progress'`;
    }
    console.log(`retries by status: ${JSON.stringify(Object.fromEntries(retryStatuses))}`);
    assert.equal(final.size, retried.length, "every failed request completed on retry");

    // Exactly once: one Purchased per checkout, one withdrawal per Idempotency-Key, and a replayed key
    // answers with the withdrawal its first success created.
    const checkoutStreams = [
      ...new Set(jobs.flatMap((j) => j.kind === "webhook" ? [`purchase-${j.purchaseId}`] : [])),
    ];
    const [counts] = await sql<{ purchased: number; multi: number; withdrawals: number; events: number }[]>`
      select (select count(*) from event_store.events where type = 'Purchased'
                and stream_id = any(${checkoutStreams}))::int as purchased,
             (select count(*) from (select stream_id from event_store.events where type = 'Purchased'
                group by stream_id having count(*) > 1) m)::int as multi,
             (select count(*) from public.withdrawals w join private.withdrawal_destinations d using (withdrawal_id)
                where d.destination like 'acct-%')::int as withdrawals,
             (select count(*) from money.stripe_events)::int as events`;
    assert.equal(counts!.multi, 0, "no checkout purchased twice");
    assert.equal(counts!.purchased, CHECKOUTS, "every checkout purchased");
    assert.equal(counts!.withdrawals, WITHDRAWERS * WITHDRAWALS_EACH, "one withdrawal per Idempotency-Key");
    assert.equal(counts!.events, CHECKOUTS, "each Stripe event recorded once");
    const keyed = await sql<{ key: string; n: number }[]>`
      select r.idempotency_key as key, count(w.withdrawal_id)::int as n from private.idempotent_requests r
      left join public.withdrawals w on w.withdrawal_id = r.operation_id
      where r.idempotency_key like 'restart-%' group by 1`;
    assert.equal(keyed.length, WITHDRAWERS * WITHDRAWALS_EACH);
    assert.deepEqual(keyed.filter((k) => k.n !== 1), [], "each key created exactly one withdrawal");
    for (const job of jobs) {
      if (job.kind !== "withdrawal") continue;
      const answer = final.get(job) ?? first[jobs.indexOf(job)]!;
      const replay = await send(job);
      assert.equal(replay.status, 201);
      assert.equal(
        JSON.parse(replay.body).id,
        JSON.parse(answer.body).id,
        "the replay names the same withdrawal",
      );
    }
    assert.deepEqual(await moneyViolations(sql), []);
  } finally {
    await stack.close();
  }
});
