// POST/GET /purchases in-process: real Postgres, the fake Stripe API on a free port.
import assert from "node:assert/strict";
import { getPurchases, moneyWorld, newPackage, newUser, postPurchase } from "./handler_test_support.ts";

Deno.test("purchases routes", async (t) => {
  const world = moneyWorld();
  const { sql } = world;
  try {
    const packageId = await newPackage(sql, 12345);
    const buyer = await newUser(sql);

    await t.step("POST creates a pending purchase behind a Checkout Session for the package", async () => {
      const { status, body } = await postPurchase(world, { userId: buyer, body: { packageId } });
      assert.equal(status, 201, JSON.stringify(body));
      assert.deepEqual(Object.keys(body).sort(), ["checkoutUrl", "purchaseId", "status", "stripeSessionId"]);
      assert.equal(body.status, "pending");
      assert.match(body.stripeSessionId, /^cs_test_/);
      const session = world.fakeStripe.sessions.get(body.stripeSessionId)!;
      assert.equal(body.checkoutUrl, session.url);
      assert.equal(session.client_reference_id, body.purchaseId);
      assert.deepEqual(session.metadata, { purchase_id: body.purchaseId, package_id: packageId });
      assert.equal(session.amount_total, 12345);
      assert.equal(session.currency, "usd");
      const sent = world.fakeStripe.requests.at(-1)!;
      assert.deepEqual(sent.payment_intent_data, {
        metadata: { purchase_id: body.purchaseId, package_id: packageId },
      });
      assert.equal(sent.success_url, "https://app.example/ok");
      const [row] = await sql`
        select user_id, status, amount_minor, stripe_session_id from public.purchases where purchase_id = ${body.purchaseId}`;
      assert.deepEqual({ ...row }, {
        user_id: buyer,
        status: "pending",
        amount_minor: 12345,
        stripe_session_id: body.stripeSessionId,
      });
      const [event] = await sql`
        select metadata from event_store.events where stream_id = ${
        "purchase-" + body.purchaseId
      } and type = 'CheckoutStarted'`;
      assert.equal(event!.metadata.actorId, buyer);
    });

    await t.step("garbage bodies are 4xx problems, never a purchase", async () => {
      const cases: [Parameters<typeof postPurchase>[1], number, string][] = [
        [{ userId: buyer, raw: "{oops" }, 400, "invalid_json"],
        [{ userId: buyer, raw: "null" }, 400, "validation_failed"],
        [{ userId: buyer, raw: "[]" }, 400, "validation_failed"],
        [{ userId: buyer, body: {} }, 400, "validation_failed"],
        [{ userId: buyer, body: { packageId: "not-a-uuid" } }, 400, "validation_failed"],
        [{ userId: buyer, body: { packageId: 42 } }, 400, "validation_failed"],
        [{ userId: buyer, body: { packageId, extra: 1 } }, 400, "validation_failed"],
        [{ userId: buyer, body: { packageId }, contentType: "text/plain" }, 415, "unsupported_media_type"],
        [{ userId: buyer, raw: JSON.stringify({ packageId: "x".repeat(20_000) }) }, 413, "payload_too_large"],
        [{ userId: buyer, body: { packageId }, key: "" }, 400, "validation_failed"],
        [{ userId: buyer, body: { packageId }, key: "has space" }, 400, "validation_failed"],
        [{ userId: buyer, body: { packageId }, key: "k".repeat(256) }, 400, "validation_failed"],
      ];
      const [before] = await sql`select count(*)::int as n from public.purchases where user_id = ${buyer}`;
      for (const [call, status, code] of cases) {
        const res = await postPurchase(world, call);
        assert.equal(res.status, status, JSON.stringify(call).slice(0, 80));
        assert.equal(res.body.code, code);
        assert.equal(res.headers.get("content-type"), "application/problem+json");
      }
      const [after] = await sql`select count(*)::int as n from public.purchases where user_id = ${buyer}`;
      assert.equal(after!.n, before!.n);
    });

    await t.step("an unknown or retired package is 422 invalid_state, and Stripe is not called", async () => {
      const retired = await newPackage(sql, 500);
      await sql`select test_support.retire(${retired}::uuid)`;
      const calls = world.fakeStripe.requests.length;
      for (const id of [crypto.randomUUID(), retired]) {
        const res = await postPurchase(world, { userId: buyer, body: { packageId: id } });
        assert.equal(res.status, 422);
        assert.equal(res.body.code, "invalid_state");
      }
      assert.equal(world.fakeStripe.requests.length, calls);
    });

    await t.step("no token is 401", async () => {
      const res = await world.purchases(
        new Request("http://localhost/purchases", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: "Bearer anon-key-not-a-user" },
          body: JSON.stringify({ packageId }),
        }),
      );
      assert.equal(res.status, 401);
      await res.body?.cancel();
      assert.equal((await getPurchases(world, null)).status, 401);
    });

    await t.step(
      "Idempotency-Key: the same request replays the first response and writes nothing",
      async () => {
        const user = await newUser(sql);
        const key = `key-${crypto.randomUUID()}`;
        const first = await postPurchase(world, { userId: user, body: { packageId }, key });
        assert.equal(first.status, 201);
        const sessions = world.fakeStripe.sessions.size;
        // Same body, other whitespace: the same request.
        const again = await postPurchase(world, {
          userId: user,
          raw: ` { "packageId" : "${packageId}" } `,
          key,
        });
        assert.equal(again.status, 201);
        assert.deepEqual(again.body, first.body);
        assert.equal(again.headers.get("idempotent-replayed"), "true");
        assert.equal(world.fakeStripe.sessions.size, sessions, "no new Checkout Session");
        const [n] = await sql`select count(*)::int as n from public.purchases where user_id = ${user}`;
        assert.equal(n!.n, 1);

        const other = await newPackage(sql, 777);
        const reused = await postPurchase(world, { userId: user, body: { packageId: other }, key });
        assert.equal(reused.status, 409);
        assert.equal(reused.body.code, "idempotency_key_reused");

        // Keys are per user: another user's same key is theirs alone.
        const stranger = await newUser(sql);
        const theirs = await postPurchase(world, { userId: stranger, body: { packageId: other }, key });
        assert.equal(theirs.status, 201);
        assert.notEqual(theirs.body.purchaseId, first.body.purchaseId);
      },
    );

    await t.step("Idempotency-Key: a refusal (422) is replayed too", async () => {
      const user = await newUser(sql);
      const key = `key-${crypto.randomUUID()}`;
      const body = { packageId: crypto.randomUUID() };
      const first = await postPurchase(world, { userId: user, body, key });
      assert.equal(first.status, 422);
      const again = await postPurchase(world, { userId: user, body, key });
      assert.equal(again.status, 422);
      assert.deepEqual(again.body, first.body);
    });

    await t.step(
      "Idempotency-Key: 5 concurrent duplicates make one purchase and get one answer",
      async () => {
        const user = await newUser(sql);
        const key = `key-${crypto.randomUUID()}`;
        const replies = await Promise.all(
          Array.from({ length: 5 }, () => postPurchase(world, { userId: user, body: { packageId }, key })),
        );
        for (const r of replies) assert.equal(r.status, 201, JSON.stringify(r.body));
        assert.equal(new Set(replies.map((r) => r.body.purchaseId)).size, 1);
        const [n] = await sql`select count(*)::int as n from public.purchases where user_id = ${user}`;
        assert.equal(n!.n, 1);
      },
    );

    await t.step("GET lists my purchases newest first, keyset-paginated; nobody else sees them", async () => {
      const user = await newUser(sql);
      const made: string[] = [];
      for (let i = 0; i < 5; i++) {
        made.push((await postPurchase(world, { userId: user, body: { packageId } })).body.purchaseId);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await getPurchases(world, user, `?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
        assert.equal(res.status, 200);
        assert.ok(res.body.items.length <= 2);
        for (const item of res.body.items) {
          assert.equal(item.status, "pending");
          assert.equal(item.amountMinor, 12345);
          assert.equal(item.currency, "USD");
          seen.push(item.purchaseId);
        }
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      assert.equal(pages, 3);
      assert.deepEqual(seen, [...made].reverse());

      const stranger = await newUser(sql);
      assert.deepEqual((await getPurchases(world, stranger)).body, { items: [], nextCursor: null });
      const mine = await getPurchases(world, buyer);
      assert.ok(mine.body.items.every((p: { purchaseId: string }) => !made.includes(p.purchaseId)));
    });

    await t.step("a bad cursor or limit is 400", async () => {
      for (
        const q of [
          "?cursor=zzz",
          `?cursor=${btoa('["x","y"]')}`,
          "?limit=0",
          "?limit=101",
          "?limit=abc",
          "?page=2",
        ]
      ) {
        const res = await getPurchases(world, buyer, q);
        assert.equal(res.status, 400, q);
        assert.equal(res.body.code, "validation_failed");
      }
    });

    await t.step("Stripe down is 503, and an Idempotency-Key retry then runs again", async () => {
      const user = await newUser(sql);
      const key = `key-${crypto.randomUUID()}`;
      const down = moneyWorld();
      await down.fakeStripe.close();
      try {
        const failed = await postPurchase(down, { userId: user, body: { packageId }, key });
        assert.equal(failed.status, 503);
        assert.equal(failed.body.code, "unavailable");
      } finally {
        await down.sql.end();
      }
      const retried = await postPurchase(world, { userId: user, body: { packageId }, key });
      assert.equal(retried.status, 201);
    });
  } finally {
    await world.close();
  }
});
