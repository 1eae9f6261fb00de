// GET /packages in-process against the real local Postgres.
import assert from "node:assert/strict";
import { createSql } from "../_shared/infra/db.ts";
import { DATABASE_URL } from "../../../tests/support.ts";
import { createPackagesHandler } from "./handler.ts";

const sql = createSql(DATABASE_URL, 2);
const handler = createPackagesHandler({ sql: () => sql });

async function get(headers: Record<string, string> = {}) {
  const res = await handler(new Request("http://localhost/packages", { headers }));
  return { status: res.status, headers: res.headers, body: await res.json() };
}

Deno.test("GET /packages", async (t) => {
  try {
    const [row] = await sql<{ on_sale: string; gone: string }[]>`
      select test_support.package(1, 120, 90) as on_sale, test_support.package(4322) as gone`;
    await sql`select test_support.retire(${row!.gone}::uuid)`;

    await t.step("lists active packages in the contract's shape, cacheable for a minute", async () => {
      const { status, headers, body } = await get();
      assert.equal(status, 200);
      assert.equal(headers.get("cache-control"), "public, max-age=60");
      const mine = body.find((p: { id: string }) => p.id === row!.on_sale);
      assert.deepEqual(mine, {
        id: row!.on_sale,
        name: "Test package",
        priceMinor: 1,
        currency: "USD",
        dailyRateBps: 120,
        durationDays: 90,
      });
      assert.ok(!body.some((p: { id: string }) => p.id === row!.gone), "retired packages are not for sale");
      const prices = body.map((p: { priceMinor: number }) => p.priceMinor);
      assert.deepEqual(prices, [...prices].sort((a, b) => a - b), "cheapest first");
    });

    await t.step(
      "any Authorization header is ignored: anonymous, a junk token and an anon key alike",
      async () => {
        const anonymous = await get();
        for (
          const authorization of ["Bearer junk", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x", "Basic Zm9vOmJhcg=="]
        ) {
          const res = await get({ authorization, apikey: "anon" });
          assert.equal(res.status, 200);
          assert.deepEqual(res.body, anonymous.body);
        }
      },
    );

    await t.step("other methods are 405 with Allow", async () => {
      const res = await handler(new Request("http://localhost/packages", { method: "POST", body: "{}" }));
      assert.equal(res.status, 405);
      assert.equal(res.headers.get("allow"), "GET");
      await res.body?.cancel();
    });
    // Tests publish into the one shared catalog: take ours off sale again.
    await sql`select test_support.retire(${row!.on_sale}::uuid)`;
  } finally {
    await sql.end();
  }
});
