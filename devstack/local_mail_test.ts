// The local Resend-compatible endpoint enforces what Resend enforces and Accrue relies on.
import assert from "node:assert/strict";
import { linksOf, startLocalMail } from "./local_mail.ts";

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/emails`, {
    method: "POST",
    headers: { authorization: "Bearer re_test", "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const mail = { from: "Accrue <no-reply@mail.accrue.test>", to: ["a@example.test"], subject: "Hi", text: "x" };

Deno.test("the local mail endpoint requires an API key, the fields and a verified from-domain", async () => {
  const endpoint = startLocalMail();
  try {
    const noKey = await fetch(`${endpoint.url}/emails`, { method: "POST", body: JSON.stringify(mail) });
    assert.equal(noKey.status, 401);
    await noKey.body?.cancel();
    assert.equal(
      (await post(endpoint.url, { ...mail, subject: undefined })).body.name,
      "missing_required_field",
    );
    assert.equal((await post(endpoint.url, { ...mail, text: undefined })).status, 422);
    assert.equal((await post(endpoint.url, { ...mail, from: "x@gmail.com" })).status, 403);
    assert.equal((await post(endpoint.url, { ...mail, to: ["not an address"] })).status, 422);
    assert.equal(endpoint.messages.length, 0);
  } finally {
    await endpoint.close();
  }
});

Deno.test("the local mail endpoint replays an idempotency key and refuses it with another payload", async () => {
  const endpoint = startLocalMail();
  try {
    const first = await post(endpoint.url, mail, { "idempotency-key": "k1" });
    const again = await post(endpoint.url, mail, { "idempotency-key": "k1" });
    assert.equal(first.status, 200);
    assert.deepEqual(again, first);
    const other = await post(endpoint.url, { ...mail, text: "y" }, { "idempotency-key": "k1" });
    assert.deepEqual([other.status, other.body.name], [409, "invalid_idempotent_request"]);
    assert.equal((await post(endpoint.url, mail, { "idempotency-key": "k".repeat(257) })).status, 400);
    assert.deepEqual([endpoint.messages.length, endpoint.stats.replayed], [1, 1]);
  } finally {
    await endpoint.close();
  }
});

Deno.test("linksOf finds the links of a message", () => {
  assert.deepEqual(
    linksOf({ text: "go to https://a.test/x?token=1 now", html: '<a href="https://a.test/y?a=1&amp;b=2">' }),
    [
      "https://a.test/x?token=1",
      "https://a.test/y?a=1&b=2",
    ],
  );
});
