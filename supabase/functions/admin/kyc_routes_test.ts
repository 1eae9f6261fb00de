// Admin KYC review in-process, against the real local Postgres: the queue, a case with expiring
// document links, decisions one at a time and in bulk, and who may do what.
import assert from "node:assert/strict";
import { testSql } from "../../../tests/support.ts";
import { encodeCursor } from "../_shared/http/pagination.ts";
import {
  APPLICANT,
  call,
  clock,
  doc,
  kycStack,
  newUser,
  PDF,
  PNG,
  submit,
  type TestUser,
} from "../kyc/kyc_test_support.ts";

const sql = testSql(10);
const time = clock();
const stack = await kycStack(sql, { clock: time, linkTtlSeconds: 600 });
globalThis.addEventListener("unload", () => {
  void sql.end();
  void stack.cleanup();
});

const admin = await newUser(sql, { admin: true });
const otherAdmin = await newUser(sql, { admin: true });

async function pendingCase(user?: TestUser) {
  const applicant = user ?? await newUser(sql);
  const result = await submit(stack.kyc, applicant, [...APPLICANT, doc(PNG), doc(PDF, "b.pdf")]);
  assert.equal(result.status, 202, JSON.stringify(result.body));
  return { user: applicant, caseId: result.body.caseId as string };
}

const decide = (caseId: string, json: unknown, by: TestUser = admin) =>
  call(stack.admin, `/admin/kyc/${caseId}/decision`, { method: "POST", token: by.token, json });
const myStatus = async (user: TestUser) => (await call(stack.kyc, "/kyc", { token: user.token })).body;

Deno.test("admin routes: anonymous 401, signed-in non-admins 403", async () => {
  const user = await newUser(sql);
  const { caseId } = await pendingCase();
  for (
    const [path, method] of [["/admin/kyc", "GET"], [`/admin/kyc/${caseId}`, "GET"], [
      `/admin/kyc/${caseId}/decision`,
      "POST",
    ], ["/admin/kyc/decisions", "POST"]] as const
  ) {
    const body = method === "POST" ? { json: { decision: "approve" } } : {};
    assert.equal((await call(stack.admin, path, { method, ...body })).status, 401, path);
    assert.equal((await call(stack.admin, path, { method, token: user.token, ...body })).status, 403, path);
  }
  const [row] = await sql`select status from public.kyc_cases where case_id = ${caseId}`;
  assert.equal(row!.status, "pending");
});

Deno.test("approve, then revoke: statuses, the recorded admin, and the user's view", async () => {
  const { user, caseId } = await pendingCase();
  const approved = await decide(caseId, { decision: "approve", note: "Passport matches." });
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  assert.equal(approved.body.status, "approved");
  assert.equal(approved.body.decidedBy, admin.id);
  assert.deepEqual(await myStatus(user), { status: "approved", canResubmit: false });
  const [checks] = await sql`select kyc.is_approved(${user.id}) as ok`;
  assert.equal(checks!.ok, true);

  const revoked = await decide(caseId, {
    decision: "revoke",
    reason: "The document was forged.",
    note: "Ref 42",
  }, otherAdmin);
  assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
  assert.equal(revoked.body.status, "revoked");
  assert.deepEqual(await myStatus(user), {
    status: "rejected",
    reason: "The document was forged.",
    canResubmit: true,
  });
  const [after] =
    await sql`select kyc.is_approved(${user.id}) as ok, (select kyc_status from public.users where user_id = ${user.id}) as s`;
  assert.equal(after!.ok, false, "a revoked approval no longer counts (withdrawals check this)");
  assert.equal(after!.s, "rejected");

  const events = await sql`select type, data, metadata from event_store.events where stream_id = ${
    "kyc-" + caseId
  } order by stream_version`;
  assert.deepEqual(events.map((e) => e.type), ["KycSubmitted", "KycApproved", "KycApprovalRevoked"]);
  assert.equal(events[1]!.data.adminId, admin.id);
  assert.equal(events[2]!.metadata.actorId, otherAdmin.id);
  assert.doesNotMatch(
    JSON.stringify(events),
    /forged|Ref 42|Passport/,
    "reasons and notes stay out of events",
  );
});

Deno.test("every illegal transition is refused with 422 and changes nothing", async () => {
  const { caseId: approvedId } = await pendingCase();
  assert.equal((await decide(approvedId, { decision: "approve" })).status, 200);
  for (
    const body of [{ decision: "approve" }, { decision: "reject", reason: "x" }, {
      decision: "request_resubmission",
      reason: "x",
    }]
  ) {
    const result = await decide(approvedId, body);
    assert.equal(result.status, 422, JSON.stringify(body));
    assert.equal(result.body.code, "invalid_state");
  }
  const { caseId: pendingId } = await pendingCase();
  assert.equal(
    (await decide(pendingId, { decision: "revoke", reason: "x" })).status,
    422,
    "a pending case cannot be revoked",
  );
  const { caseId: rejectedId } = await pendingCase();
  assert.equal((await decide(rejectedId, { decision: "reject", reason: "Blurry photo." })).status, 200);
  for (
    const body of [{ decision: "approve" }, { decision: "revoke", reason: "x" }, {
      decision: "reject",
      reason: "x",
    }]
  ) {
    assert.equal((await decide(rejectedId, body)).status, 422, JSON.stringify(body));
  }
  const [row] = await sql`select count(*)::int as n from event_store.events where stream_id in (${
    "kyc-" + approvedId
  }, ${"kyc-" + pendingId}, ${"kyc-" + rejectedId})`;
  assert.equal(row!.n, 2 + 1 + 2);
});

Deno.test("an admin deciding their own case gets 403 and the case stays pending", async () => {
  const applicantAdmin = await newUser(sql, { admin: true });
  const { caseId } = await pendingCase(applicantAdmin);
  const result = await decide(caseId, { decision: "approve" }, applicantAdmin);
  assert.equal(result.status, 403);
  assert.equal(result.body.code, "forbidden");
  assert.equal((await decide(caseId, { decision: "approve" }, admin)).status, 200, "another admin may");
});

Deno.test("reject with retry allowed lets the user resubmit; a final rejection does not", async () => {
  const { user, caseId } = await pendingCase();
  assert.equal(
    (await decide(caseId, { decision: "reject", reason: "Photo is blurry.", note: "low res" })).status,
    200,
  );
  assert.deepEqual(await myStatus(user), {
    status: "rejected",
    reason: "Photo is blurry.",
    canResubmit: true,
  });
  const second = await pendingCase(user);
  assert.equal(
    (await decide(second.caseId, { decision: "request_resubmission", reason: "Add the back side." })).status,
    200,
  );
  assert.deepEqual(await myStatus(user), {
    status: "resubmission_requested",
    reason: "Add the back side.",
    canResubmit: true,
  });
  const third = await pendingCase(user);
  assert.equal(
    (await decide(third.caseId, { decision: "reject", reason: "Fraud.", final: true })).status,
    200,
  );
  assert.deepEqual(await myStatus(user), { status: "rejected", reason: "Fraud.", canResubmit: false });
  const refused = await submit(stack.kyc, user, [...APPLICANT, doc(PNG)]);
  assert.equal(refused.status, 422);
  assert.equal((await stack.filesOf(user.id)).length, 6, "the refused submission stored nothing");
});

Deno.test("decision bodies are validated", async () => {
  const { caseId } = await pendingCase();
  for (
    const body of [
      {},
      { decision: "maybe" },
      { decision: "reject" },
      { decision: "approve", reason: "shown to the user?" },
      { decision: "approve", final: true },
      { decision: "reject", reason: "x", extra: 1 },
      { decision: "reject", reason: "x".repeat(501) },
    ]
  ) {
    const result = await decide(caseId, body);
    assert.equal(result.status, 400, JSON.stringify(body));
    assert.equal(result.body.code, "validation_failed");
  }
  assert.equal((await decide(crypto.randomUUID(), { decision: "approve" })).status, 404);
  assert.equal((await decide("not-a-uuid", { decision: "approve" })).status, 404);
});

Deno.test("a case shows the applicant, decisions and document links that expire", async () => {
  const { user, caseId } = await pendingCase();
  const shown = await call(stack.admin, `/admin/kyc/${caseId}`, { token: admin.token });
  assert.equal(shown.status, 200, JSON.stringify(shown.body));
  assert.equal(shown.body.userId, user.id);
  assert.deepEqual(shown.body.applicant, { fullName: "Ann Lee", dateOfBirth: "1990-05-17", country: "DE" });
  assert.equal(shown.body.documents.length, 2);
  const [first, second] = shown.body.documents;
  assert.equal(first.contentType, "image/png");
  assert.equal(second.contentType, "application/pdf");
  assert.ok(!("storageKey" in first), "storage keys stay internal");
  assert.ok(new Date(first.expiresAt).getTime() - time.now().getTime() <= 30 * 60 * 1000);

  const fetchLink = async (url: string) => {
    const res = await stack.kyc(new Request(url));
    return {
      status: res.status,
      bytes: new Uint8Array(await res.arrayBuffer()),
      type: res.headers.get("content-type"),
    };
  };
  const opened = await fetchLink(first.url);
  assert.equal(opened.status, 200);
  assert.deepEqual(opened.bytes, PNG);
  assert.equal(opened.type, "image/png");
  assert.deepEqual((await fetchLink(second.url)).bytes, PDF, "one link, one file");

  time.advance(601);
  assert.equal((await fetchLink(first.url)).status, 403, "the link expired");
  time.advance(-601);

  assert.equal(
    (await call(stack.admin, `/admin/kyc/${crypto.randomUUID()}`, { token: admin.token })).status,
    404,
  );
  assert.equal((await call(stack.admin, "/admin/kyc/nope", { token: admin.token })).status, 404);
});

Deno.test("the queue filters by status and pages with a keyset cursor", async () => {
  const created = [await pendingCase(), await pendingCase(), await pendingCase()];
  const ids = new Set(created.map((c) => c.caseId));
  const seen: string[] = [];
  // Start just before our first case (the queue holds every run's cases); ours appear once each, in order.
  const [first] = await sql`select submitted_position as p from public.kyc_cases where case_id = ${
    created[0]!.caseId
  }`;
  let cursor: string | null = encodeCursor([first!.p, "00000000-0000-0000-0000-000000000000"]);
  let pages = 0;
  do {
    const page: {
      status: number;
      body: { items: { caseId: string; status: string }[]; nextCursor: string | null };
    } = await call(
      stack.admin,
      `/admin/kyc?status=pending&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      { token: admin.token },
    );
    assert.equal(page.status, 200);
    assert.ok(page.body.items.length <= 2);
    for (const item of page.body.items) {
      assert.equal(item.status, "pending");
      if (ids.has(item.caseId)) seen.push(item.caseId);
    }
    cursor = page.body.nextCursor;
    pages++;
  } while (cursor && pages < 50);
  assert.deepEqual(seen, created.map((c) => c.caseId));

  await decide(created[0]!.caseId, { decision: "approve" });
  // Every approved case, page by page: all approved, and ours among them (an empty page proves nothing).
  const approvedIds: string[] = [];
  let approvedCursor: string | null = null;
  do {
    const approved: {
      status: number;
      body: { items: { caseId: string; status: string }[]; nextCursor: string | null };
    } = await call(
      stack.admin,
      `/admin/kyc?status=approved&limit=100${approvedCursor ? `&cursor=${approvedCursor}` : ""}`,
      { token: admin.token },
    );
    assert.equal(approved.status, 200);
    for (const item of approved.body.items) {
      assert.equal(item.status, "approved");
      approvedIds.push(item.caseId);
    }
    approvedCursor = approved.body.nextCursor;
  } while (approvedCursor);
  assert.ok(approvedIds.includes(created[0]!.caseId), "the case just approved is in the approved queue");

  for (const query of ["status=nope", "limit=0", "limit=101", "cursor=zzz", "cursor=WyJ4Il0", "sort=asc"]) {
    const bad = await call(stack.admin, `/admin/kyc?${query}`, { token: admin.token });
    assert.equal(bad.status, 400, query);
    assert.equal(bad.body.code, "validation_failed");
  }
});

Deno.test("bulk decisions: each item on its own, with per-item results", async () => {
  const a = await pendingCase();
  const b = await pendingCase();
  const mine = await pendingCase(admin);
  const unknown = crypto.randomUUID();
  const result = await call(stack.admin, "/admin/kyc/decisions", {
    method: "POST",
    token: admin.token,
    json: {
      items: [
        { caseId: a.caseId, decision: "approve" },
        { caseId: b.caseId, decision: "reject", reason: "Expired passport.", final: false },
        { caseId: mine.caseId, decision: "approve" },
        { caseId: unknown, decision: "approve" },
      ],
    },
  });
  assert.equal(result.status, 200, JSON.stringify(result.body));
  assert.deepEqual(result.body.results.map((r: { caseId: string; status: number }) => [r.caseId, r.status]), [
    [a.caseId, 200],
    [b.caseId, 200],
    [mine.caseId, 403],
    [unknown, 404],
  ]);
  assert.equal(result.body.results[0].result.status, "approved");
  assert.equal(result.body.results[2].error.code, "forbidden");
  const again = await call(stack.admin, "/admin/kyc/decisions", {
    method: "POST",
    token: admin.token,
    json: { items: [{ caseId: a.caseId, decision: "approve" }] },
  });
  assert.equal(again.body.results[0].status, 422, "approving twice is an illegal transition");
  for (
    const items of [[], [{ caseId: a.caseId, decision: "approve" }, {
      caseId: a.caseId,
      decision: "approve",
    }]]
  ) {
    const bad = await call(stack.admin, "/admin/kyc/decisions", {
      method: "POST",
      token: admin.token,
      json: { items },
    });
    assert.equal(bad.status, 400);
  }
});

Deno.test("two admins deciding one case at once: one decision wins", async () => {
  const { caseId } = await pendingCase();
  const results = await Promise.all([
    decide(caseId, { decision: "approve" }, admin),
    decide(caseId, { decision: "reject", reason: "No." }, otherAdmin),
  ]);
  assert.deepEqual(
    results.map((r) => r.status).filter((s) => s === 200).length,
    1,
    JSON.stringify(results.map((r) => r.body)),
  );
  assert.ok(results.every((r) => [200, 409, 422].includes(r.status)));
  const [row] = await sql`select count(*)::int as n from event_store.events where stream_id = ${
    "kyc-" + caseId
  }`;
  assert.equal(row!.n, 2);
});
