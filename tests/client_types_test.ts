// The typed client's types (checked when `deno test` type-checks this file: each expected type error
// below that does not occur fails the check) and what it sends, through a fetch of our own.
import assert from "node:assert/strict";
import { AccrueClient, AccrueContractError, AccrueProblem } from "../clients/typescript/accrue_client.ts";

// Never run: only type-checked.
async function _typeChecks(api: AccrueClient) {
  const pkg = (await api.call("listPackages", {}))[0]!;
  const checkout = await api.call("purchase", { body: { packageId: pkg.id } }, { idempotencyKey: "k" });
  const _url: string = checkout.checkoutUrl;
  for await (const page of api.pages("ledger", { limit: 100 })) {
    const _amount: number = page.items[0]!.amountMinor;
  }
  const _csv: string = await api.call("adminExport", {
    params: { kind: "ledger" },
    query: { from: "2026-01-01", to: "2026-02-01" },
  });
  // @ts-expect-error: a body the schema refuses does not type-check
  await api.call("purchase", { body: { packageId: 5 } });
  // @ts-expect-error: a route with a path parameter needs it
  await api.call("adminKycCase", {});
  // @ts-expect-error: no such route
  await api.call("deleteEverything", {});
  // @ts-expect-error: an amount is a number, not a string
  const _wrong: string = (await api.call("account", {})).availableMinor;
}

type Sent = { url: string; init: RequestInit };
function clientAnswering(answers: Response[], sent: Sent[]) {
  return new AccrueClient({
    baseUrl: "http://api.test/functions/v1/",
    accessToken: "token-1",
    fetch: (url, init) => {
      sent.push({ url, init });
      return Promise.resolve(answers.shift() ?? new Response(null, { status: 599 }));
    },
  });
}
const problem = (status: number, code: string) =>
  Response.json({ type: "about:blank", title: "t", status, detail: "d", code, requestId: "r" }, { status });

Deno.test("the client sends path parameters, query, paging, bearer token and Idempotency-Key", async () => {
  const sent: Sent[] = [];
  const page = { items: [], nextCursor: null };
  const api = clientAnswering([Response.json(page), Response.json(page)], sent);
  await api.call("adminKycQueue", { query: { status: "pending" }, limit: 5, cursor: "c/1" });
  assert.equal(sent[0]!.url, "http://api.test/functions/v1/admin/kyc?status=pending&limit=5&cursor=c%2F1");
  assert.equal(new Headers(sent[0]!.init.headers).get("authorization"), "Bearer token-1");
  await assert.rejects(api.call("adminKycCase", { params: {} } as never), /missing path parameter caseId/);
  const withdrawal = { id: crypto.randomUUID(), amountMinor: 1000, currency: "USD", status: "pending" };
  const posting = clientAnswering([Response.json(withdrawal, { status: 201 })], sent);
  await posting.call("withdraw", { body: { amountMinor: 1000, currency: "USD", destination: "x" } });
  const headers = new Headers(sent.at(-1)!.init.headers);
  assert.match(
    headers.get("idempotency-key") ?? "",
    /^[0-9a-f-]{36}$/,
    "a key of its own when none is given",
  );
  assert.equal(headers.get("content-type"), "application/json");
});

Deno.test("problems, contract breaks and one refresh on 401 unauthenticated", async () => {
  const sent: Sent[] = [];
  const refused = clientAnswering([problem(403, "kyc_required")], sent);
  const error = await refused.call("account", {}).catch((e) => e);
  assert.ok(error instanceof AccrueProblem);
  assert.deepEqual([error.status, error.code], [403, "kyc_required"]);

  const broken = clientAnswering([Response.json({ availableMinor: "a lot" })], sent);
  assert.ok(await broken.call("account", {}).catch((e) => e) instanceof AccrueContractError);

  const user = {
    id: crypto.randomUUID(),
    email: "a@example.com",
    role: "user",
    referralCode: "ABCDEFGH",
    referrerId: null,
    vipLevel: 0,
    kycStatus: "none",
    createdAt: "2026-12-02T00:00:00Z",
  };
  const session = { user, accessToken: "token-2", refreshToken: "refresh-2", expiresIn: 900 };
  const expired = clientAnswering([
    problem(401, "unauthenticated"),
    Response.json(session),
    Response.json(user),
  ], sent);
  expired.refreshToken = "refresh-1";
  const before = sent.length;
  assert.equal((await expired.call("me", {})).id, user.id);
  assert.deepEqual(sent.slice(before).map((s) => s.url.replace("http://api.test/functions/v1", "")), [
    "/auth/me",
    "/auth/refresh",
    "/auth/me",
  ]);
  assert.equal(new Headers(sent.at(-1)!.init.headers).get("authorization"), "Bearer token-2");
  assert.equal(expired.refreshToken, "refresh-2");

  const forbidden = clientAnswering([problem(401, "unauthenticated"), problem(401, "unauthenticated")], sent);
  forbidden.refreshToken = "refresh-1";
  const twice = await forbidden.call("me", {}).catch((e) => e);
  assert.ok(twice instanceof AccrueProblem, "a failed refresh is the caller's problem, not a loop");
});
