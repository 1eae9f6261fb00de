// Password reset, email verification and password change end to end: through the gateway, with the
// mails read from the local inbox the stack's Resend-compatible endpoint keeps.
import assert from "node:assert/strict";
import { fetchFrom, fn, loopbackIp, testSql } from "./support.ts";
import { inbox, tokenOf, waitForMail } from "./mail_support.ts";

const PASSWORD = "correct horse battery staple";
const NEW_PASSWORD = "a brand new passphrase";

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetchFrom(loopbackIp(), fn(path), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function signup() {
  const email = `mail-${crypto.randomUUID()}@example.com`;
  const res = await post("auth/signup", { email, password: PASSWORD });
  assert.equal(res.status, 201);
  return { email, ...res.body as { accessToken: string; refreshToken: string; user: { id: string } } };
}

async function me(accessToken: string) {
  const res = await fetchFrom(loopbackIp(), fn("auth/me"), {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  return await res.json();
}

Deno.test("password reset end to end: the mailed token works once, the old password and sessions stop", async () => {
  const user = await signup();
  assert.equal((await post("auth/password-reset", { email: user.email })).status, 202);
  const mail = await waitForMail(user.email, /Reset your password/);
  assert.match(mail.links.join(" "), /\/reset-password\?token=/);
  const token = tokenOf(mail);

  const confirmed = await post("auth/password-reset/confirm", { token, newPassword: NEW_PASSWORD });
  assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
  assert.equal((await post("auth/login", { email: user.email, password: PASSWORD })).status, 401);
  assert.equal((await post("auth/login", { email: user.email, password: NEW_PASSWORD })).status, 200);
  assert.equal(
    (await post("auth/refresh", { refreshToken: user.refreshToken })).status,
    401,
    "old session revoked",
  );
  const again = await post("auth/password-reset/confirm", { token, newPassword: "yet another passphrase" });
  assert.deepEqual([again.status, again.body.code], [400, "invalid_token"], "the token works once");
  await waitForMail(user.email, /Your password was changed/);
});

Deno.test("password reset for an unknown address: 202, nothing stored, nothing sent", async () => {
  const sql = testSql(1);
  try {
    const email = `nobody-${crypto.randomUUID()}@example.com`;
    const count = async () =>
      (await sql<
        { n: number }[]
      >`select (select count(*) from private.email_tokens where purpose = 'password_reset')::int as n`)[0]!.n;
    const before = await count();
    const res = await post("auth/password-reset", { email });
    assert.deepEqual([res.status, res.body], [202, null]);
    assert.equal(await count(), before, "no token row");
    assert.equal((await inbox(email)).length, 0, "no mail");
  } finally {
    await sql.end();
  }
});

Deno.test("email verification end to end: signup mails a link, verify flips /auth/me, resend invalidates the old link", async () => {
  const user = await signup();
  assert.equal((await me(user.accessToken)).emailVerified, false);
  const first = tokenOf(await waitForMail(user.email, /Verify your email/));
  const resent = await fetchFrom(loopbackIp(), fn("auth/verify-email/resend"), {
    method: "POST",
    headers: { authorization: `Bearer ${user.accessToken}` },
  });
  assert.equal(resent.status, 202);
  const second = tokenOf(await waitForMail(user.email, /Verify your email/, 2));
  assert.notEqual(first, second);
  assert.equal(
    (await post("auth/verify-email", { token: first })).body.code,
    "invalid_token",
    "the old link stopped working",
  );
  const verified = await post("auth/verify-email", { token: second });
  assert.deepEqual([verified.status, verified.body], [200, { emailVerified: true }]);
  const account = await me(user.accessToken);
  assert.deepEqual([account.emailVerified, account.emailDeliverable], [true, true]);
  assert.equal((await post("auth/verify-email", { token: second })).status, 400, "single use");
});

Deno.test("change password: 204, other sessions revoked, this one kept, a mail sent", async () => {
  const user = await signup();
  const other = await post("auth/login", { email: user.email, password: PASSWORD });
  const change = (currentPassword: string) =>
    fetchFrom(loopbackIp(), fn("auth/password"), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${user.accessToken}`,
      },
      body: JSON.stringify({ currentPassword, newPassword: NEW_PASSWORD }),
    });
  const wrong = await change("not my password at all");
  assert.equal(wrong.status, 401);
  await wrong.body?.cancel();
  const ok = await change(PASSWORD);
  assert.equal(ok.status, 204);
  assert.equal(
    (await post("auth/refresh", { refreshToken: other.body.refreshToken })).status,
    401,
    "the other session ended",
  );
  assert.equal(
    (await post("auth/refresh", { refreshToken: user.refreshToken })).status,
    200,
    "this session lives on",
  );
  assert.equal((await post("auth/login", { email: user.email, password: NEW_PASSWORD })).status, 200);
  await waitForMail(user.email, /Your password was changed/);
});

Deno.test("emailed-token routes refuse malformed and unknown tokens with 400 invalid_token", async () => {
  for (const token of ["x", "A".repeat(43)]) {
    assert.equal((await post("auth/verify-email", { token })).body.code, "invalid_token");
    assert.equal(
      (await post("auth/password-reset/confirm", { token, newPassword: NEW_PASSWORD })).body.code,
      "invalid_token",
    );
  }
});
