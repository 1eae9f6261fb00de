// The mail outbox against a real database and the Resend-compatible local endpoint, through the
// unmodified resend SDK. These tests commit and drain every due mail, so they own a scratch database.
import assert from "node:assert/strict";
import { createSql, type Sql } from "../supabase/functions/_shared/infra/db.ts";
import {
  claimMails,
  type DrainConfig,
  drainDefaults,
  drainOutbox,
  sendClaimed,
} from "../supabase/functions/_shared/infra/mail_outbox.ts";
import { createResendMailer, type Mailer } from "../supabase/functions/_shared/infra/mailer.ts";
import { type LocalMail, startLocalMail } from "../devstack/local_mail.ts";
import { scratchDatabase } from "./scratch_db.ts";

const config: DrainConfig = {
  ...drainDefaults,
  appUrl: "https://app.example.test",
  unsubscribeUrl: "https://api.example.test/functions/v1/email/unsubscribe",
  linkSecret: "test-link-secret",
  batchSize: 50,
  concurrency: 10,
};

function mailerFor(endpoint: LocalMail): Mailer {
  return createResendMailer({
    apiKey: "re_test",
    from: "Accrue <no-reply@mail.accrue.test>",
    baseUrl: endpoint.url,
  });
}

/** n queued mails (kyc_approved needs no variables) to one user with an address. */
async function queue(sql: Sql, n: number, kind = "kyc_approved", variables: Record<string, unknown> = {}) {
  const userId = crypto.randomUUID();
  await sql`insert into private.profiles (user_id, email) values (${userId}, ${`u-${userId}@example.test`})`;
  await sql`
    insert into notify.outbox (dedupe_key, kind, user_id, variables)
    select ${userId} || ':' || i, ${kind}, ${userId}, ${sql.json(variables as never)}
    from generate_series(1, ${n}::int) i`;
  return userId;
}

async function row(sql: Sql, userId: string) {
  const [r] = await sql<
    { id: string; status: string; attempts: number; wait_s: number; last_error: string | null }[]
  >`
    select id, status, attempts, extract(epoch from next_attempt_at - now())::float8 as wait_s, last_error
    from notify.outbox where user_id = ${userId}`;
  return r!;
}

/** A retry is due now (the tests assert the backoff, then skip the wait instead of sleeping). */
async function makeDue(sql: Sql, userId: string) {
  await sql`update notify.outbox set next_attempt_at = now() where user_id = ${userId} and status = 'queued'`;
}

Deno.test("mail outbox: exactly once through the resend SDK", async (t) => {
  const db = await scratchDatabase();
  const sql = createSql(db.url, 12);
  const endpoint = startLocalMail();
  const mailer = mailerFor(endpoint);
  try {
    await t.step("five drainers at once over 1,000 queued mails send each exactly once", async () => {
      await queue(sql, 1000);
      const drainers = Array.from({ length: 5 }, () => createSql(db.url, 2));
      try {
        const results = await Promise.all(drainers.map((s) => drainOutbox(s, mailer, config)));
        assert.equal(results.reduce((n, r) => n + r.sent, 0), 1000);
        assert.ok(results.filter((r) => r.sent > 0).length >= 2, "the drainers shared the work");
      } finally {
        await Promise.all(drainers.map((s) => s.end()));
      }
      assert.equal(endpoint.stats.requests, 1000, "one request per mail, no retries");
      assert.equal(endpoint.stats.accepted, 1000);
      assert.equal(endpoint.acceptedKeys.size, 1000, "every outbox id once at the endpoint");
      const [counts] = await sql<{ sent: number; other: number }[]>`
        select count(*) filter (where status = 'sent')::int as sent, count(*) filter (where status <> 'sent')::int as other
        from notify.outbox`;
      assert.deepEqual(counts, { sent: 1000, other: 0 });
    });

    await t.step("a provider answering 500 then 200: sent once, both attempts recorded", async () => {
      endpoint.clear();
      const userId = await queue(sql, 1);
      endpoint.faults.push({ status: 500 });
      assert.deepEqual(await drainOutbox(sql, mailer, config), { claimed: 1, sent: 0, retried: 1, dead: 0 });
      const failed = await row(sql, userId);
      assert.equal(failed.status, "queued");
      assert.match(failed.last_error!, /^500 /);
      assert.ok(failed.wait_s > 14 && failed.wait_s <= 30, `backoff of 15-30 s, got ${failed.wait_s}`);
      assert.equal((await drainOutbox(sql, mailer, config)).claimed, 0, "not before the backoff");
      await makeDue(sql, userId);
      assert.equal((await drainOutbox(sql, mailer, config)).sent, 1);
      const sent = await row(sql, userId);
      assert.deepEqual([sent.status, sent.attempts], ["sent", 2]);
      assert.equal(endpoint.stats.accepted, 1);
    });

    await t.step("429 honours Retry-After", async () => {
      endpoint.clear();
      const userId = await queue(sql, 1);
      endpoint.faults.push({ status: 429, headers: { "Retry-After": "90" } });
      await drainOutbox(sql, mailer, config);
      const limited = await row(sql, userId);
      assert.equal(limited.status, "queued");
      assert.ok(
        limited.wait_s >= 89 && limited.wait_s <= 100,
        `waits Retry-After (90 s), got ${limited.wait_s}`,
      );
      await makeDue(sql, userId);
      await drainOutbox(sql, mailer, config);
      assert.equal((await row(sql, userId)).status, "sent");
      assert.equal(endpoint.stats.accepted, 1);
    });

    await t.step(
      "a drainer killed after the provider accepted: the retry is deduplicated by the key",
      async () => {
        endpoint.clear();
        const userId = await queue(sql, 1);
        // The drainer claims and sends, then dies before recording: the row stays leased.
        const [claimed] = await claimMails(sql, 10, 60, 8);
        assert.equal((await sendClaimed(claimed!, mailer, config)).ok, true);
        assert.equal((await row(sql, userId)).status, "sending");
        // The lease ends; another drainer claims it and sends again with the same Idempotency-Key.
        await sql`update notify.outbox set next_attempt_at = now() where user_id = ${userId}`;
        assert.equal((await drainOutbox(sql, mailer, config)).sent, 1);
        assert.equal(endpoint.stats.requests, 2, "the provider was asked twice");
        assert.equal(endpoint.stats.accepted, 1, "but sent one mail");
        assert.equal(endpoint.stats.replayed, 1, "the second was an idempotent replay");
        assert.equal(endpoint.messages.length, 1);
        assert.deepEqual([(await row(sql, userId)).status, (await row(sql, userId)).attempts], ["sent", 2]);
      },
    );

    await t.step("a missing template variable: dead at once, visible, and re-drivable", async () => {
      endpoint.clear();
      const userId = await queue(sql, 1, "withdrawal_paid", { amount: "10.00 USD" });
      assert.equal((await drainOutbox(sql, mailer, config)).dead, 1);
      const dead = await row(sql, userId);
      assert.equal(dead.status, "dead");
      assert.match(dead.last_error!, /withdrawalId/);
      assert.equal(endpoint.stats.requests, 0, "nothing was sent");
      await sql`update notify.outbox set variables = variables || '{"withdrawalId": "w1", "paymentReference": "r1"}' where user_id = ${userId}`;
      await sql`select notify.redrive_mails()`;
      assert.equal((await drainOutbox(sql, mailer, config)).sent, 1);
    });

    await t.step("an optional mail carries RFC 8058 one-click unsubscribe headers", async () => {
      endpoint.clear();
      await queue(sql, 1, "commission_digest", { count: 2, amount: "8.00 USD", day: "2026-12-01" });
      await drainOutbox(sql, mailer, config);
      const [mail] = endpoint.messages;
      assert.match(
        mail!.headers["List-Unsubscribe"]!,
        /^<https:\/\/api\.example\.test\/functions\/v1\/email\/unsubscribe\?token=u1\./,
      );
      assert.equal(mail!.headers["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
      assert.match(mail!.text!, /unsubscribe\?token=u1\./);
    });

    await t.step("a rebuild queues nothing", async () => {
      const [ids] = await sql<{ user_id: string; package_id: string }[]>`
        select (test_support.chain(1))[1] as user_id, test_support.package() as package_id`;
      await sql`select test_support.buy(${ids!.user_id}::uuid, ${ids!.package_id}::uuid)`;
      const before = await sql`select 1 from notify.outbox where user_id = ${
        ids!.user_id
      } and kind = 'purchase_receipt'`;
      assert.equal(before.length, 1, "the purchase queued its receipt");
      // Even with the sent receipt purged from the outbox, a committed rebuild mails nobody.
      await sql`delete from notify.outbox`;
      await sql`select projections.rebuild()`;
      const [after] = await sql<{ n: number }[]>`select count(*)::int as n from notify.outbox`;
      assert.equal(after!.n, 0);
    });
  } finally {
    await endpoint.close();
    await sql.end();
    await db.drop();
  }
});
