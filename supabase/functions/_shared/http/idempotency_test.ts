// The Idempotency-Key layer on its own, against the real local Postgres (private.idempotent_requests).
import assert from "node:assert/strict";
import { createSql } from "../infra/db.ts";
import { DATABASE_URL } from "../../../../tests/support.ts";
import { json } from "./app.ts";
import { canonicalJson, idempotent, type IdempotentRequest, requestSha256 } from "./idempotency.ts";
import { problems } from "./problem.ts";

const sql = createSql(DATABASE_URL, 8);
const options = { waitMs: 2000, staleAfterSeconds: 60 };

function request(input: unknown, overrides: Partial<IdempotentRequest> = {}): IdempotentRequest {
  return {
    userId: crypto.randomUUID(),
    key: `k-${crypto.randomUUID()}`,
    scope: "POST /things",
    input,
    requestId: "req-1",
    ...overrides,
  };
}

Deno.test("idempotency", async (t) => {
  try {
    await t.step("canonical JSON ignores key order and undefined fields", () => {
      assert.equal(
        canonicalJson({ b: 1, a: [{ d: 2, c: undefined, e: null }] }),
        '{"a":[{"d":2,"e":null}],"b":1}',
      );
      assert.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
    });

    await t.step("no key: every call runs", async () => {
      let runs = 0;
      const r = request({ x: 1 }, { key: null });
      for (let i = 0; i < 3; i++) {
        await idempotent(sql, r, () => Promise.resolve(json({ n: ++runs }, 201)), options);
      }
      assert.equal(runs, 3);
    });

    await t.step("same key and input: one run, the same status and body again", async () => {
      let runs = 0;
      const r = request({ x: 1 });
      const run = () => Promise.resolve(json({ n: ++runs }, 201));
      const first = await idempotent(sql, r, run, options);
      const second = await idempotent(sql, { ...r, input: { x: 1 } }, run, options);
      assert.equal(runs, 1);
      assert.equal(second.status, 201);
      assert.equal(await second.text(), await first.text());
      assert.equal(second.headers.get("idempotent-replayed"), "true");
      assert.equal(second.headers.get("content-type"), "application/json; charset=utf-8");
    });

    await t.step("same key, other input or other route: 409 idempotency_key_reused", async () => {
      const r = request({ x: 1 });
      await idempotent(sql, r, () => Promise.resolve(json({}, 201)), options);
      for (const other of [{ ...r, input: { x: 2 } }, { ...r, scope: "POST /other" }]) {
        await assert.rejects(
          idempotent(sql, other, () => Promise.resolve(json({}, 201)), options),
          (e: { status: number; code: string }) => e.status === 409 && e.code === "idempotency_key_reused",
        );
      }
    });

    await t.step("a 4xx problem is stored and replayed; a 5xx is not (the retry runs)", async () => {
      let runs = 0;
      const refused = request({ x: 1 });
      const refuse = () => {
        runs++;
        return Promise.reject(problems.unprocessable("invalid_state", "no"));
      };
      const first = await idempotent(sql, refused, refuse, options);
      const again = await idempotent(sql, refused, refuse, options);
      assert.deepEqual([first.status, again.status, runs], [422, 422, 1]);
      assert.deepEqual(await again.json(), await first.json());

      let attempts = 0;
      const flaky = request({ y: 1 });
      const run = () =>
        ++attempts === 1 ? Promise.reject(new Error("boom")) : Promise.resolve(json({ ok: true }, 201));
      await assert.rejects(idempotent(sql, flaky, run, options), /boom/);
      const retried = await idempotent(sql, flaky, run, options);
      assert.equal(retried.status, 201);
      const returned503 = request({ z: 1 });
      let calls = 0;
      const unavailable = () => Promise.resolve(++calls === 1 ? json({}, 503) : json({}, 201));
      assert.equal((await idempotent(sql, returned503, unavailable, options)).status, 503);
      assert.equal((await idempotent(sql, returned503, unavailable, options)).status, 201);
    });

    await t.step("a concurrent duplicate waits for the first and gets its answer", async () => {
      const r = request({ x: 1 });
      let runs = 0;
      const slow = async (operationId: string) => {
        runs++;
        await new Promise((resolve) => setTimeout(resolve, 200));
        return json({ operationId }, 201);
      };
      const [a, b] = await Promise.all([
        idempotent(sql, r, slow, options),
        idempotent(sql, r, slow, options),
      ]);
      assert.equal(runs, 1);
      assert.equal(await a.text(), await b.text());
    });

    await t.step("a duplicate that waits too long is 409 conflict (in progress)", async () => {
      const r = request({ x: 1 });
      let release = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      // The first request runs its operation only once it holds the claim: wait for that, not for a time.
      let claimed = () => {};
      const running = new Promise<void>((resolve) => (claimed = resolve));
      const first = idempotent(sql, r, async () => (claimed(), await held, json({}, 201)), options);
      await running;
      await assert.rejects(
        idempotent(sql, r, () => Promise.resolve(json({}, 201)), { ...options, waitMs: 100 }),
        (e: { status: number; code: string }) => e.status === 409 && e.code === "conflict",
      );
      release();
      assert.equal((await first).status, 201);
    });

    await t.step("a claim whose owner died is taken over under the same operation id", async () => {
      const r = request({ x: 1 });
      const deadOperationId = crypto.randomUUID();
      // What a process that crashed mid-request leaves behind: a claim in progress, ten minutes old.
      await sql`
        insert into private.idempotent_requests (user_id, idempotency_key, request_sha256, operation_id, claimed_at)
        values (${r.userId}::uuid, ${r.key}, ${await requestSha256(
        r.scope,
        r.input,
      )}, ${deadOperationId}::uuid,
                now() - interval '10 minutes')`;
      const retried = await idempotent(sql, r, (id) => Promise.resolve(json({ id }, 201)), options);
      assert.equal(retried.status, 201);
      assert.deepEqual(await retried.json(), { id: deadOperationId });
    });

    await t.step("a fresh claim in progress is not taken over", async () => {
      const r = request({ x: 1 });
      await sql`
        insert into private.idempotent_requests (user_id, idempotency_key, request_sha256)
        values (${r.userId}::uuid, ${r.key}, ${await requestSha256(r.scope, r.input)})`;
      await assert.rejects(
        idempotent(sql, r, () => Promise.resolve(json({}, 201)), { ...options, waitMs: 100 }),
        (e: { status: number }) => e.status === 409,
      );
    });
  } finally {
    await sql.end();
  }
});
