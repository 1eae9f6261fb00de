// Admin users (JSON and CSV) and earnings runs, in-process against the real local Postgres.
import assert from "node:assert/strict";
import { signAccessToken } from "../_shared/auth/jwt.ts";
import { createUserGuard } from "../_shared/auth/guard.ts";
import { createApp } from "../_shared/http/app.ts";
import { createSql } from "../_shared/infra/db.ts";
import { redis } from "../_shared/infra/redis.ts";
import { DATABASE_URL } from "../../../tests/support.ts";
import { authHandler, rateLimits, TEST_TOKENS } from "../auth/handler_test_support.ts";
import { CSV_TRAILER, csvField } from "../_shared/http/csv.ts";
import { userRoutes, type UserRoutesDeps } from "./users_routes.ts";

const sql = createSql(DATABASE_URL, 4);
const guard = createUserGuard({
  sql: () => sql,
  redis,
  rateLimits: rateLimits({ enabled: false }),
  tokens: TEST_TOKENS,
  ip: { header: "x-forwarded-for", hop: "first" },
});
const adminApp = (deps: Partial<UserRoutesDeps> = {}) =>
  createApp({ functionName: "admin", routes: userRoutes({ sql: () => sql, guard, ...deps }) });
const app = adminApp();
const auth = authHandler(sql);

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

async function problemPaths(res: Response, status = 400): Promise<string[]> {
  assert.equal(res.status, status);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  return (await res.json()).errors.map((e: { path: string }) => e.path).sort();
}

const csvLines = async (res: Response) => (await res.text()).trimEnd().split("\r\n");

async function signup(email: string) {
  const res = await auth(
    new Request("http://localhost/auth/signup", {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": "192.0.2.44" },
      body: JSON.stringify({ email, password: "correct horse battery" }),
    }),
  );
  assert.equal(res.status, 201);
  return (await res.json()).user as { id: string; referralCode: string };
}

Deno.test("admins find users by email prefix, id and referral code, as JSON and as CSV", async () => {
  const tag = crypto.randomUUID().slice(0, 8);
  const first = await signup(`adm-${tag}-a@example.com`);
  const second = await signup(`adm-${tag}-b@example.com`);

  const byPrefix = await (await get(`/users?search=ADM-${tag}&limit=1`)).json();
  assert.equal(byPrefix.items.length, 1);
  assert.equal(byPrefix.items[0].id, second.id, "newest first");
  const next = await (await get(`/users?search=adm-${tag}&limit=1&cursor=${byPrefix.nextCursor}`)).json();
  assert.equal(next.items[0].id, first.id);
  assert.equal(next.nextCursor, null);
  assert.equal(
    (await (await get(`/users?search=${first.id}`)).json()).items[0].email,
    `adm-${tag}-a@example.com`,
  );
  assert.equal(
    (await (await get(`/users?search=${first.referralCode.toLowerCase()}`)).json()).items[0].id,
    first.id,
  );
  assert.equal((await get(`/users?search=${"x".repeat(400)}`)).status, 400);
  assert.equal((await get(`/users?search=adm-${tag}`, "user")).status, 403);

  const csv = await get(`/users.csv?search=adm-${tag}`);
  assert.equal(csv.headers.get("content-type"), "text/csv; charset=utf-8");
  const lines = await csvLines(csv);
  assert.equal(lines[0], "id,email,role,referralCode,referrerId,vipLevel,kycStatus,createdAt");
  assert.equal(lines.length, 4);
  assert.ok(lines[1]!.startsWith(`${second.id},adm-${tag}-b@example.com,user,`));
  assert.equal(lines[3], `${CSV_TRAILER.complete},2,,,,,,`, "a complete export ends with its trailer row");
});

Deno.test("the CSV export refuses unknown query parameters, as the JSON list does, naming each", async () => {
  assert.deepEqual(await problemPaths(await get("/users.csv?limit=5&foo=bar")), ["foo", "limit"]);
  assert.deepEqual(await problemPaths(await get("/users?limit=5&foo=bar")), ["foo"]);
  assert.deepEqual(await problemPaths(await get("/users.csv?search=a&cursor=x")), ["cursor"]);
});

Deno.test("a NUL in search is a 400 naming the parameter, for the CSV export and the JSON list alike", async () => {
  assert.deepEqual(await problemPaths(await get("/users.csv?search=a%00b")), ["search"]);
  assert.deepEqual(await problemPaths(await get("/users?search=a%00b")), ["search"]);
});

Deno.test("the CSV export runs its first query before answering: a database that is down is a 503, not a 200", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = listener.addr.port;
  listener.close();
  const nowhere = createSql(`postgres://postgres@127.0.0.1:${closedPort}/postgres`, 1);
  const res = await get("/users.csv", "admin", adminApp({ sql: () => nowhere }));
  assert.equal(res.status, 503);
  assert.equal((await res.json()).code, "unavailable");
  await nowhere.end();
});

Deno.test("the CSV export reads every page through readSql (the read replica), never the primary's pool", async () => {
  const tag = crypto.randomUUID().slice(0, 8);
  for (const letter of ["a", "b", "c"]) await signup(`csvread-${tag}-${letter}@example.com`);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = listener.addr.port;
  listener.close();
  const nowhere = createSql(`postgres://postgres@127.0.0.1:${closedPort}/postgres`, 1);
  let readQueries = 0;
  const viaReplica = adminApp({ sql: () => nowhere, readSql: () => (readQueries++, sql), csvPageRows: 1 });
  const lines = await csvLines(await get(`/users.csv?search=csvread-${tag}`, "admin", viaReplica));
  assert.equal(lines.length, 5, "the header, 3 users and the trailer");
  assert.equal(lines.at(-1), `${CSV_TRAILER.complete},3,,,,,,`);
  assert.equal(readQueries, 3, "3 pages of one row (each asks for one more), each through readSql");
  await nowhere.end();
});

Deno.test("the CSV export pages through every match, and a row cap ends it with the #limit trailer", async () => {
  const tag = crypto.randomUUID().slice(0, 8);
  const users = [];
  for (const letter of ["a", "b", "c"]) users.push(await signup(`csvpage-${tag}-${letter}@example.com`));
  const ids = users.map((u) => u.id).reverse(); // newest first
  const paged = await csvLines(
    await get(`/users.csv?search=csvpage-${tag}`, "admin", adminApp({ csvPageRows: 1 })),
  );
  assert.deepEqual(paged.slice(1, -1).map((l) => l.split(",")[0]), ids);
  assert.equal(paged.at(-1), `${CSV_TRAILER.complete},3,,,,,,`);
  for (const pageRows of [1, 2, 5]) {
    const capped = await csvLines(
      await get(
        `/users.csv?search=csvpage-${tag}`,
        "admin",
        adminApp({ csvPageRows: pageRows, csvRowsMax: 2 }),
      ),
    );
    assert.deepEqual(
      capped.slice(1, -1).map((l) => l.split(",")[0]),
      ids.slice(0, 2),
      `pages of ${pageRows}`,
    );
    assert.equal(capped.at(-1), `${CSV_TRAILER.capped},2,,,,,,`, `pages of ${pageRows}`);
  }
});

Deno.test("a failure after the 200 is logged with the request id and cuts the body before the trailer row", async () => {
  const tag = crypto.randomUUID().slice(0, 8);
  await signup(`csvcut-${tag}-a@example.com`);
  await signup(`csvcut-${tag}-b@example.com`);
  const own = createSql(DATABASE_URL, 1);
  const res = await get(
    `/users.csv?search=csvcut-${tag}`,
    "admin",
    adminApp({ sql: () => own, csvPageRows: 1 }),
  );
  assert.equal(res.status, 200);
  const requestId = res.headers.get("x-request-id");
  await own.end(); // the first page was read before the 200; the second query now fails
  const logged: string[] = [];
  const consoleError = console.error;
  console.error = (line: string) => logged.push(line);
  let received = "";
  try {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    await assert.rejects(async () => {
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) received += chunk.value;
    });
  } finally {
    console.error = consoleError;
  }
  const rows = received.trimEnd().split("\r\n");
  assert.equal(rows.length, 2, "the header and the first page went out");
  assert.ok(!received.includes(CSV_TRAILER.complete) && !received.includes(CSV_TRAILER.capped), "no trailer");
  const lines = logged.map((l) => JSON.parse(l)).filter((l) => l.requestId === requestId);
  assert.equal(lines.length, 1, logged.join("\n"));
  assert.equal(lines[0].level, "error");
  assert.equal(lines[0].function, "admin");
  assert.equal(lines[0].route, "/users.csv");
  assert.equal(lines[0].phase, "stream");
  assert.equal(lines[0].rowsSent, 1);
});

Deno.test("CSV fields are quoted, and formulas are defused", () => {
  assert.equal(csvField('a,"b"'), '"a,""b"""');
  assert.equal(csvField("=HYPERLINK(1)"), "'=HYPERLINK(1)");
  assert.equal(csvField(null), "");
  assert.equal(csvField(3), "3");
});

Deno.test("the CSV export and the JSON list page through users registered within one millisecond", async () => {
  // Registration times keep microseconds; a page's last key must too, or the next page starts at the
  // millisecond and skips the users registered in the rest of it.
  const tag = crypto.randomUUID().slice(0, 8);
  const ids = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
  const times = ["2031-06-01T00:00:00.123900Z", "2031-06-01T00:00:00.123500Z", "2031-06-01T00:00:00.123100Z"];
  for (const [i, id] of ids.entries()) {
    await sql`insert into public.users (user_id, referral_code, registered_at)
              values (${id}::uuid, test_support.referral_code(), ${times[i]!}::text::timestamptz)`;
    await sql`insert into private.profiles (user_id, email) values (${id}::uuid, ${`usec-${tag}-${i}@example.com`})`;
    await sql`insert into private.credentials (user_id, password_hash) values (${id}::uuid, '$scrypt$x')`;
  }
  try {
    const csv = await csvLines(
      await get(`/users.csv?search=usec-${tag}`, "admin", adminApp({ csvPageRows: 1 })),
    );
    assert.deepEqual(csv.slice(1, -1).map((l) => l.split(",")[0]), ids, "newest first, none skipped");
    const first = await (await get(`/users?search=usec-${tag}&limit=1`)).json();
    const second = await (await get(`/users?search=usec-${tag}&limit=1&cursor=${first.nextCursor}`)).json();
    assert.equal(second.items[0]?.id, ids[1]);
  } finally {
    await sql`delete from private.credentials where user_id = any(${ids}::uuid[])`;
    await sql`delete from private.profiles where user_id = any(${ids}::uuid[])`;
    await sql`delete from public.users where user_id = any(${ids}::uuid[])`;
  }
});

Deno.test("the earnings run history is paginated newest first", async () => {
  // Three runs of our own, the newest in the table (run ids grow); pages of two walk them newest first.
  const ids = (await sql<{ id: number }[]>`
    insert into money.earnings_runs (started_at, duration_ms, periods, status, error)
    select now() + make_interval(secs => n), n, 0, case when n = 2 then 'failed' else 'succeeded' end,
           case when n = 2 then 'test' end
    from generate_series(1, 3) n returning run_id as id`).map((r) => Number(r.id)).sort((a, b) => b - a);
  try {
    const first = await (await get("/earnings-runs?limit=2")).json();
    assert.deepEqual(first.items.map((r: { id: number }) => r.id), ids.slice(0, 2));
    assert.equal(first.items[1].status, "failed");
    assert.ok(first.nextCursor);
    const next = await (await get(`/earnings-runs?limit=2&cursor=${encodeURIComponent(first.nextCursor)}`))
      .json();
    assert.equal(next.items[0].id, ids[2]);
  } finally {
    await sql`delete from money.earnings_runs where run_id = any(${ids})`;
  }
  assert.equal((await get("/earnings-runs?cursor=abc")).status, 400);
  await sql.end();
});
