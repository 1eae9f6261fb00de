// Finance exports, in-process against the real local Postgres: windows, reconciliation with the ledger,
// keyset pages, formula injection, admins only.
import assert from "node:assert/strict";
import { signAccessToken } from "../_shared/auth/jwt.ts";
import { createUserGuard } from "../_shared/auth/guard.ts";
import { createApp } from "../_shared/http/app.ts";
import { CSV_TRAILER } from "../_shared/http/csv.ts";
import { createSql } from "../_shared/infra/db.ts";
import { EXPORT_KINDS } from "../_shared/infra/export_store.ts";
import { redis } from "../_shared/infra/redis.ts";
import { DATABASE_URL } from "../../../tests/support.ts";
import { rateLimits, TEST_TOKENS } from "../auth/handler_test_support.ts";
import { exportRoutes } from "./exports_routes.ts";

const sql = createSql(DATABASE_URL, 4);
const guard = createUserGuard({
  sql: () => sql,
  redis,
  rateLimits: rateLimits({ enabled: false }),
  tokens: TEST_TOKENS,
  ip: { header: "x-forwarded-for", hop: "first" },
});
const appWith = (exportPageRows?: number) =>
  createApp({
    functionName: "admin",
    routes: exportRoutes({ sql: () => sql, guard, ...(exportPageRows ? { exportPageRows } : {}) }),
  });
const app = appWith();

const [adminRow] = await sql<{ id: string }[]>`select test_support.kyc_user(true) as id`;

async function get(path: string, role: "user" | "admin" = "admin", via = app) {
  const token = await signAccessToken(
    { userId: role === "admin" ? adminRow!.id : crypto.randomUUID(), role, sessionId: crypto.randomUUID() },
    TEST_TOKENS,
    new Date(),
  );
  return await via(
    new Request(`http://localhost/admin${path}`, { headers: { authorization: `Bearer ${token}` } }),
  );
}

/** The rows as objects by header, and the trailer row apart (our cells hold no comma or newline but the
 * quoted reference, which the tests read raw). */
async function parseCsv(res: Response) {
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/csv; charset=utf-8");
  const lines = (await res.text()).split("\r\n");
  assert.equal(lines.pop(), "", "ends with CRLF");
  const header = lines.shift()!.split(",");
  const trailer = lines.pop()!.split(",");
  assert.equal(trailer.length, header.length, "the trailer row is padded to the column count");
  const rows = lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [header[i], v])));
  return { header, trailer, rows, lines };
}

const dbNow = async () => (await sql<{ t: string }[]>`select money.rfc3339(clock_timestamp()) as t`)[0]!.t;

Deno.test("the ledger export of a window reconciles with the ledger's sums for that window, in any page size", async () => {
  const from = await dbNow();
  const [user] = await sql<{ id: string }[]>`select test_support.kyc_user() as id`;
  await sql`select test_support.fund(${user!.id}::uuid, 50000)`;
  await sql`select test_support.fund(${user!.id}::uuid, 20000)`;
  const to = await dbNow();

  const ledger = await sql<{ account: string; total: number; lines: number }[]>`
    select account, sum(amount_minor)::bigint as total, count(*)::bigint as lines from public.ledger_entries
    where recorded_at >= ${from}::timestamptz and recorded_at < ${to}::timestamptz
    group by account order by account`;
  const lineCount = ledger.reduce((n, a) => n + a.lines, 0);
  assert.ok(lineCount > 10, "the window holds the purchases' and releases' lines");

  const whole = await parseCsv(await get(`/exports/ledger.csv?from=${from}&to=${to}`));
  assert.deepEqual(whole.trailer.slice(0, 2), [CSV_TRAILER.complete, String(lineCount)]);
  assert.equal(whole.rows.length, lineCount);
  const totals = new Map<string, number>();
  for (const row of whole.rows) {
    totals.set(row.account!, (totals.get(row.account!) ?? 0) + Number(row.amountMinor));
  }
  assert.deepEqual(
    [...totals].sort(([a], [b]) => a < b ? -1 : 1),
    ledger.map((a) => [a.account, a.total]),
    "per account, the export's totals equal the ledger's",
  );
  assert.equal([...totals.values()].reduce((a, b) => a + b, 0), 0, "double entry: the window sums to zero");
  assert.ok(whole.rows.some((r) => r.amountMinor!.startsWith("-")), "negative amounts stay numbers");

  // Lines of one event share their time: pages of 3 cut through such ties and must lose or repeat none.
  const paged = await parseCsv(await get(`/exports/ledger.csv?from=${from}&to=${to}`, "admin", appWith(3)));
  assert.deepEqual(paged.lines, whole.lines);
  assert.deepEqual(paged.trailer, whole.trailer);

  // The other kinds see the same window: two purchases, their commissions.
  const purchases = await parseCsv(
    await get(`/exports/purchases.csv?from=${from}&to=${to}`, "admin", appWith(1)),
  );
  assert.equal(purchases.rows.length, 2);
  assert.deepEqual(purchases.rows.map((r) => r.amountMinor).sort(), ["20000", "50000"]);
  const commissions = await parseCsv(await get(`/exports/commissions.csv?from=${from}&to=${to}`));
  assert.ok(commissions.rows.some((r) => r.beneficiaryId === user!.id));
  assert.equal(commissions.trailer[1], String(commissions.rows.length));
});

Deno.test("a withdrawal reference that looks like a formula is exported as text", async () => {
  const from = await dbNow();
  const [user] = await sql<{ id: string }[]>`select test_support.kyc_user() as id`;
  await sql`select test_support.approve_kyc(${user!.id}::uuid)`;
  await sql`select test_support.fund(${user!.id}::uuid, 100000)`;
  const withdrawalId = crypto.randomUUID();
  await sql`select money.request_withdrawal(${withdrawalId}::uuid, ${
    user!.id
  }::uuid, 5000, 'USD', 'IBAN DE00')`;
  await sql`select money.decide_withdrawal(${withdrawalId}::uuid, ${adminRow!.id}::uuid, 'approve')`;
  await sql`select money.decide_withdrawal(${withdrawalId}::uuid, ${adminRow!.id}::uuid, 'mark_paid',
    '=HYPERLINK("http://evil.example","x")')`;
  const to = await dbNow();

  const text = await (await get(`/exports/withdrawals.csv?from=${from}&to=${to}`)).text();
  const line = text.split("\r\n").find((l) => l.startsWith(withdrawalId))!;
  assert.ok(line.endsWith(`,"'=HYPERLINK(""http://evil.example"",""x"")"`), line);
  assert.ok(line.includes(",5000,USD,paid,"), line);
});

Deno.test("a missing, malformed, inverted or too long window, or an unknown parameter, is a 400 problem", async () => {
  const paths = async (query: string) => {
    const res = await get(`/exports/ledger.csv${query}`);
    assert.equal(res.status, 400, query);
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    return (await res.json()).errors.map((e: { path: string }) => e.path).sort();
  };
  assert.deepEqual(await paths(""), ["from", "to"]);
  assert.deepEqual(await paths("?from=2026-01-01"), ["to"]);
  assert.deepEqual(await paths("?from=yesterday&to=2026-01-02"), ["from"]);
  assert.deepEqual(
    await paths("?from=2026-01-01T00:00:00&to=2026-01-02"),
    ["from"],
    "a time needs its offset",
  );
  assert.deepEqual(await paths("?from=2026-02-30&to=2026-03-02"), ["from"]);
  assert.deepEqual(await paths("?from=2026-01-02&to=2026-01-01"), ["to"]);
  assert.deepEqual(await paths("?from=2026-01-01&to=2026-01-01"), ["to"], "an empty window");
  assert.deepEqual(await paths("?from=2025-01-01&to=2026-01-03"), ["to"], "more than 366 days");
  assert.deepEqual(await paths("?from=2026-01-01&to=2026-01-02&limit=5"), ["limit"]);
  // 366 days is allowed, and a window with nothing in it is a complete, empty export.
  for (const kind of EXPORT_KINDS) {
    const empty = await parseCsv(
      await get(`/exports/${kind}.csv?from=1999-01-01&to=2000-01-01T00:00:00%2B00:00`),
    );
    assert.equal(empty.rows.length, 0, kind);
    assert.deepEqual(empty.trailer.slice(0, 2), [CSV_TRAILER.complete, "0"], kind);
  }
});

Deno.test("exports are for admins: a user is refused with 403, an anonymous caller with 401", async () => {
  const query = "?from=2026-01-01&to=2026-01-02";
  for (const kind of EXPORT_KINDS) {
    const res = await get(`/exports/${kind}.csv${query}`, "user");
    assert.equal(res.status, 403, kind);
    await res.body?.cancel();
  }
  const anonymous = await app(new Request(`http://localhost/admin/exports/ledger.csv${query}`));
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();
  assert.equal((await get(`/exports/payroll.csv${query}`)).status, 404);
});
