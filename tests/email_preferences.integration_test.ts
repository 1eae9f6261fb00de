// Preferences, one-click unsubscribe and the provider's bounce / complaint webhook, through the gateway.
import assert from "node:assert/strict";
import { Webhook } from "svix";
import {
  emailLinkSecretFromEnv,
  signUnsubscribeToken,
} from "../supabase/functions/_shared/domain/notify/unsubscribe_token.ts";
import { LOCAL_WEBHOOK_SECRET } from "../supabase/functions/email-webhook/handler.ts";
import { fetchFrom, fn, loopbackIp, testSql } from "./support.ts";

const PASSWORD = "correct horse battery staple";

async function signup() {
  const email = `prefs-${crypto.randomUUID()}@example.com`;
  // From an address of its own: the gateway counts signups per connection address (3 an hour).
  const res = await fetchFrom(loopbackIp(), fn("auth/signup"), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  assert.equal(res.status, 201);
  const body = await res.json();
  return { email, id: body.user.id as string, accessToken: body.accessToken as string };
}

async function preferences(accessToken: string, put?: unknown) {
  const res = await fetchFrom(loopbackIp(), fn("account/notifications"), {
    method: put === undefined ? "GET" : "PUT",
    headers: {
      authorization: `Bearer ${accessToken}`,
      "content-type": "application/json",
    },
    ...(put === undefined ? {} : { body: JSON.stringify(put) }),
  });
  return { status: res.status, body: await res.json() };
}

Deno.test("GET / PUT /account/notifications switch the commission digest", async () => {
  const user = await signup();
  assert.deepEqual(await preferences(user.accessToken), { status: 200, body: { commissionDigest: true } });
  assert.deepEqual(await preferences(user.accessToken, { commissionDigest: false }), {
    status: 200,
    body: { commissionDigest: false },
  });
  assert.deepEqual((await preferences(user.accessToken)).body, { commissionDigest: false });
  const bad = await preferences(user.accessToken, { commissionDigest: "no", extra: 1 });
  assert.deepEqual([bad.status, bad.body.code], [400, "validation_failed"]);
  assert.deepEqual((await preferences(user.accessToken)).body, { commissionDigest: false }, "unchanged");
});

Deno.test("one-click unsubscribe: GET shows a page, POST unsubscribes; tampered or foreign tokens are 400", async () => {
  const user = await signup();
  const secret = await emailLinkSecretFromEnv((n) =>
    Deno.env.get(n) ??
      (n === "JWT_SECRET" ? "super-secret-jwt-token-with-at-least-32-characters-long" : undefined)
  );
  const token = await signUnsubscribeToken(secret, { userId: user.id, preference: "commission_digest" });
  const url = (t: string) => fn(`email/unsubscribe?token=${encodeURIComponent(t)}`);

  const tampered = token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA");
  const foreign = await signUnsubscribeToken("another-secret", {
    userId: user.id,
    preference: "commission_digest",
  });
  const otherUser = token.replace(user.id, crypto.randomUUID());
  for (const bad of [tampered, foreign, otherUser, "", "u1.x.y.z"]) {
    for (const method of ["GET", "POST"]) {
      const res = await fetchFrom(loopbackIp(), url(bad), { method });
      assert.equal(res.status, 400, `${method} ${bad}`);
      assert.equal((await res.json()).code, "invalid_token");
    }
  }
  assert.deepEqual((await preferences(user.accessToken)).body, { commissionDigest: true }, "nothing changed");

  const page = await fetchFrom(loopbackIp(), url(token));
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type")!, /text\/html/);
  assert.match(await page.text(), /<form method="post"/);
  assert.deepEqual(
    (await preferences(user.accessToken)).body,
    { commissionDigest: true },
    "GET changes nothing",
  );

  const oneClick = await fetchFrom(loopbackIp(), url(token), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "List-Unsubscribe=One-Click",
  });
  assert.equal(oneClick.status, 200);
  await oneClick.body?.cancel();
  assert.deepEqual((await preferences(user.accessToken)).body, { commissionDigest: false });
});

function signed(body: unknown, secret = LOCAL_WEBHOOK_SECRET, id = `msg_${crypto.randomUUID()}`) {
  const payload = JSON.stringify(body);
  const signature = new Webhook(secret).sign(id, new Date(), payload);
  return {
    payload,
    headers: {
      "content-type": "application/json",
      "svix-id": id,
      "svix-timestamp": String(Math.floor(Date.now() / 1000)),
      "svix-signature": signature,
    },
  };
}

async function deliver(s: ReturnType<typeof signed>, headers: Record<string, string> = {}) {
  const res = await fetchFrom(loopbackIp(), fn("email-webhook"), {
    method: "POST",
    headers: { ...s.headers, ...headers },
    body: s.payload,
  });
  return { status: res.status, body: await res.json() };
}

async function me(accessToken: string) {
  const res = await fetchFrom(loopbackIp(), fn("auth/me"), {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  return await res.json();
}

Deno.test("bounce webhook: a bad signature is 400 and suppresses nothing; a hard bounce suppresses once", async () => {
  const user = await signup();
  const sql = testSql(1);
  try {
    const bounce = {
      type: "email.bounced",
      created_at: new Date().toISOString(),
      data: { to: [user.email], bounce: { type: "Permanent" } },
    };
    const forged = signed(bounce, "whsec_" + btoa("someone else's secret"));
    assert.deepEqual([(await deliver(forged)).status, (await deliver(forged)).body.code], [
      400,
      "invalid_signature",
    ]);
    const good = signed(bounce);
    const tamperedBody = await fetchFrom(loopbackIp(), fn("email-webhook"), {
      method: "POST",
      headers: good.headers,
      body: good.payload.replace("Permanent", "Transient"),
    });
    assert.equal(tamperedBody.status, 400);
    await tamperedBody.body?.cancel();
    const [row] = await sql<
      { n: number }[]
    >`select count(*)::int as n from notify.suppressions where email = ${user.email}`;
    assert.equal(row!.n, 0, "nothing suppressed");
    assert.equal((await me(user.accessToken)).emailDeliverable, true);

    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push((await deliver(good)).body.outcome);
    assert.deepEqual(outcomes, ["suppressed", "duplicate", "duplicate", "duplicate", "duplicate"]);
    assert.equal((await me(user.accessToken)).emailDeliverable, false);
  } finally {
    await sql.end();
  }
});

Deno.test("bounce webhook: a complaint suppresses, a soft bounce and a delivery do not", async () => {
  const soft = await signup();
  const complained = await signup();
  const event = (type: string, to: string, extra: Record<string, unknown> = {}) =>
    signed({ type, created_at: new Date().toISOString(), data: { to: [to], ...extra } });
  assert.equal(
    (await deliver(event("email.bounced", soft.email, { bounce: { type: "Transient" } }))).body.outcome,
    "recorded",
  );
  assert.equal((await deliver(event("email.delivered", soft.email))).body.outcome, "recorded");
  assert.equal((await me(soft.accessToken)).emailDeliverable, true);
  assert.equal((await deliver(event("email.complained", complained.email))).body.outcome, "suppressed");
  assert.equal((await me(complained.accessToken)).emailDeliverable, false);
});
