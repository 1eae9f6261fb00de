// The alert webhook against a real local HTTP receiver and the real local Postgres.
import assert from "node:assert/strict";
import { createSql } from "./db.ts";
import { DATABASE_URL } from "../../../../tests/support.ts";
import { dispatchAlertNotifications } from "./alert_webhook.ts";

const sql = createSql(DATABASE_URL, 6);

/** A rule and one fired alert of the test's own, due a year ahead (so the test's clock owns it). */
async function firedAlert(at: Date): Promise<{ rule: string; alertId: number }> {
  const rule = `test_hook_${crypto.randomUUID().slice(0, 8)}`;
  await sql`insert into ops.alert_rules (rule_id, metric, comparison, threshold, severity, description)
            values (${rule}, ${rule}, '>', 10, 'critical', 'Test alert.')`;
  const [row] = await sql<{ alert_id: number }[]>`
    with a as (insert into ops.alerts (rule_id, metric, severity, comparison, threshold, fired_at, fired_value)
               values (${rule}, ${rule}, 'critical', '>', 10, ${at.toISOString()}, 42) returning alert_id)
    insert into ops.alert_notifications (alert_id, transition, next_attempt_at, created_at)
    select alert_id, 'fired', ${at.toISOString()}, ${at.toISOString()} from a returning alert_id`;
  return { rule, alertId: row!.alert_id };
}

/** Accepts every notification, except the first `failFirst` ones about `failRule` (the database is
 * shared: other notifications may be due at the test's clock too). */
function receiver(failFirst: number, failRule = "") {
  const bodies: Record<string, unknown>[] = [];
  let failed = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = await req.json();
    if (failed < failFirst && String(body.text).includes(`${failRule}:`)) {
      failed++;
      return new Response("nope", { status: 503 });
    }
    bodies.push(body);
    return new Response("ok");
  });
  return { url: `http://127.0.0.1:${server.addr.port}/hook`, bodies, close: () => server.shutdown() };
}

Deno.test("a fired alert reaches the webhook as Slack JSON, retried with backoff after a failure", async () => {
  const t = new Date(Date.now() + 365 * 86_400_000);
  const { rule, alertId } = await firedAlert(t);
  const hook = receiver(1, rule);
  try {
    const config = { url: hook.url, timeoutMs: 5000, attemptsMax: 3 };
    const first = await dispatchAlertNotifications(sql, config, { now: () => t });
    assert.ok(first.retrying >= 1, "the 503 is recorded for a retry");
    const [pending] = await sql<{ status: string; next_attempt_at: Date; last_error: string }[]>`
      select status, next_attempt_at, last_error from ops.alert_notifications where alert_id = ${alertId}`;
    assert.equal(pending!.status, "pending");
    assert.equal(pending!.last_error, "HTTP 503");
    assert.equal(pending!.next_attempt_at.getTime(), t.getTime() + 30_000, "retried after 30 s");

    const early = await dispatchAlertNotifications(sql, config, {
      now: () => new Date(t.getTime() + 10_000),
    });
    assert.equal(
      hook.bodies.filter((b) => String(b.text).includes(rule)).length,
      0,
      "not before the backoff",
    );
    assert.ok(early.sent >= 0);
    await dispatchAlertNotifications(sql, config, { now: () => new Date(t.getTime() + 31_000) });
    const mine = hook.bodies.filter((b) => String(b.text).includes(rule));
    assert.equal(mine.length, 1, "sent once");
    assert.match(
      String(mine[0]!.text),
      new RegExp(`^FIRING \\[critical\\] ${rule}: ${rule} = 42 \\(> 10\\)`),
    );
    assert.ok(Array.isArray(mine[0]!.attachments));
    const [sent] = await sql<{ status: string; attempts: number }[]>`
      select status, attempts from ops.alert_notifications where alert_id = ${alertId}`;
    assert.deepEqual({ ...sent }, { status: "sent", attempts: 2 });
  } finally {
    await hook.close();
    await sql`delete from ops.alert_rules where rule_id = ${rule}`;
  }
});

Deno.test("concurrent dispatchers send each notification once (SKIP LOCKED and a lease)", async () => {
  const t = new Date(Date.now() + 366 * 86_400_000);
  const alerts = await Promise.all(Array.from({ length: 6 }, () => firedAlert(t)));
  const hook = receiver(0);
  try {
    const config = { url: hook.url, timeoutMs: 5000, attemptsMax: 3 };
    await Promise.all(
      Array.from({ length: 4 }, () => dispatchAlertNotifications(sql, config, { now: () => t, limit: 2 })),
    );
    await dispatchAlertNotifications(sql, config, { now: () => t, limit: 100 });
    for (const { rule } of alerts) {
      assert.equal(
        hook.bodies.filter((b) => String(b.text).includes(`${rule}:`)).length,
        1,
        `${rule} sent once`,
      );
    }
  } finally {
    await hook.close();
    for (const { rule } of alerts) await sql`delete from ops.alert_rules where rule_id = ${rule}`;
  }
});

Deno.test("a notification is dead after its last attempt", async () => {
  const t = new Date(Date.now() + 367 * 86_400_000);
  const { rule, alertId } = await firedAlert(t);
  try {
    const config = { url: "http://127.0.0.1:9/unreachable", timeoutMs: 1000, attemptsMax: 2 };
    await dispatchAlertNotifications(sql, config, { now: () => t });
    await dispatchAlertNotifications(sql, config, { now: () => new Date(t.getTime() + 60_000) });
    const [row] = await sql<{ status: string; attempts: number }[]>`
      select status, attempts from ops.alert_notifications where alert_id = ${alertId}`;
    assert.deepEqual({ ...row }, { status: "dead", attempts: 2 });
  } finally {
    await sql`delete from ops.alert_rules where rule_id = ${rule}`;
  }
});

globalThis.addEventListener("unload", () => sql.end());
