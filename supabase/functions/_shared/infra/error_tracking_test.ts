// Sentry through @sentry/deno, pointed at a small local ingest endpoint: the envelope of a 5xx arrives,
// with the request id, function, route and user id, and scrubbed of passwords, tokens, emails and
// document data. One test kills the function's database backend mid-request.
import assert from "node:assert/strict";
import { createApp, type Route } from "../http/app.ts";
import { createSql } from "./db.ts";
import { DATABASE_URL } from "../../../../tests/support.ts";
import { closeErrorTracking, initErrorTracking, scrub } from "./error_tracking.ts";

const SECRET_PASSWORD = "correct-horse-battery-staple";
const EMAIL = "victim@example.com";
const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";

function ingest() {
  const envelopes: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/api/1/envelope/") envelopes.push(await req.text());
    return new Response("{}", { headers: { "content-type": "application/json" } });
  });
  return {
    dsn: `http://publickey@127.0.0.1:${server.addr.port}/1`,
    envelopes,
    /** The event envelope whose request id is `requestId` (a 5xx flushes before answering, so it is there). */
    eventFor: (requestId: string) => envelopes.find((e) => e.includes(`"requestId":"${requestId}"`)),
    close: () => server.shutdown(),
  };
}

type SentryEvent = {
  tags: Record<string, string>;
  user: { id?: string };
  exception: { values: { value: string }[] };
};

/** The event item of an envelope (header line, item header line, payload line). */
function eventOf(envelope: string): SentryEvent {
  const lines = envelope.split("\n");
  const i = lines.findIndex((l) => l.includes('"type":"event"'));
  return JSON.parse(lines[i + 1]!);
}

Deno.test("a function's 5xx reaches Sentry with request id, function, route and user, scrubbed", async () => {
  const sink = ingest();
  await initErrorTracking({ dsn: sink.dsn, environment: "test" });
  const sql = createSql(DATABASE_URL, 2);
  try {
    const routes: Route[] = [
      {
        method: "POST",
        path: "/login/:id",
        handler: async (ctx) => {
          const body = await ctx.req.json();
          ctx.userId = "11111111-2222-3333-4444-555555555555";
          const error = new Error(
            `login failed for ${body.email} password=${body.password} with Bearer ${JWT} and sk_live_abc123`,
          ) as Error & { documentSha256?: string };
          error.documentSha256 = "a".repeat(64);
          throw error;
        },
      },
      {
        method: "GET",
        path: "/slow",
        handler: async () => {
          await sql`select pg_sleep(30), 'accrue-killed-mid-request' as marker`;
          return new Response("never");
        },
      },
    ];
    const app = createApp({ functionName: "probe", routes });

    const res = await app(
      new Request("http://localhost/probe/login/42", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${JWT}`,
          "x-request-id": "req-sentry-1",
        },
        body: JSON.stringify({ email: EMAIL, password: SECRET_PASSWORD }),
      }),
    );
    assert.equal(res.status, 500);
    await res.body?.cancel();
    const raw = sink.eventFor("req-sentry-1");
    assert.ok(raw, `the envelope arrived (${sink.envelopes.length} received)`);
    const event = eventOf(raw);
    assert.equal(event.tags.requestId, "req-sentry-1");
    assert.equal(event.tags.function, "probe");
    assert.equal(event.tags.route, "/login/:id");
    assert.equal(event.user.id, "11111111-2222-3333-4444-555555555555");
    assert.match(event.exception.values[0]!.value, /login failed for \[email\] password=\[Filtered\]/);
    for (const secret of [SECRET_PASSWORD, EMAIL, JWT, "sk_live_abc123", "a".repeat(64)]) {
      assert.ok(!raw.includes(secret), `the envelope does not contain ${secret.slice(0, 12)}…`);
    }

    // Kill the function's database backend while the request waits on it: a 503, and an envelope.
    const pending = app(
      new Request("http://localhost/probe/slow", { headers: { "x-request-id": "req-sentry-2" } }),
    );
    const admin = createSql(DATABASE_URL, 1);
    try {
      for (let i = 0; i < 100; i++) {
        const [row] = await admin<{ n: number }[]>`
          select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
          where query like '%accrue-killed-mid-request%' and pid <> pg_backend_pid()`;
        if (row!.n > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await admin.end();
    }
    const slow = await pending;
    assert.equal(slow.status, 503);
    await slow.body?.cancel();
    const killedRaw = sink.eventFor("req-sentry-2");
    assert.ok(
      killedRaw,
      `the envelope arrived (${sink.envelopes.length} received: ${sink.envelopes.join("\n---\n")})`,
    );
    const killedEvent = eventOf(killedRaw);
    assert.equal(killedEvent.tags.requestId, "req-sentry-2");
    assert.equal(killedEvent.tags.route, "/slow");
  } finally {
    await closeErrorTracking();
    await sql.end({ timeout: 1 }); // its connection was killed: do not wait for it
    await sink.close();
  }
});

Deno.test("scrubbing filters sensitive keys at any depth and cleans every string", () => {
  const out = scrub({
    message: `user ${EMAIL} token=abc.def password: hunter2`,
    extra: { nested: { accessToken: "x", refresh_token: "y", destination: "IBAN DE00", fullName: "Ann" } },
    user: { id: "u1", email: EMAIL, ip_address: "192.0.2.1" },
    request: { headers: { authorization: "Bearer x" }, data: { password: "p" } },
  });
  assert.deepEqual(out, {
    message: "user [email] token=[Filtered] password: [Filtered]",
    extra: {
      nested: {
        accessToken: "[Filtered]",
        refresh_token: "[Filtered]",
        destination: "[Filtered]",
        fullName: "[Filtered]",
      },
    },
    user: { id: "u1" },
    request: undefined,
  });
});
