// The kyc function in-process, against the real local Postgres; documents in a temporary folder.
// Every test makes its own users, so the suite can run again against the same database.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { testSql } from "../../../tests/support.ts";
import {
  APPLICANT,
  call,
  doc,
  form,
  JPEG,
  kycStack,
  newUser,
  PDF,
  PNG,
  submit,
  TEST_LIMITS,
  type TestUser,
} from "./kyc_test_support.ts";
import { parseSubmission, readBody, readUploadHead } from "./submission_form.ts";
import { bodyBytesMax } from "./upload_limits.ts";

const sql = testSql(10);
const stack = await kycStack(sql);
globalThis.addEventListener("unload", () => {
  void sql.end();
  void stack.cleanup();
});

async function storedFor(user: TestUser) {
  const [row] = await sql<{ cases: number; applicants: number; documents: number }[]>`
    select (select count(*)::int from public.kyc_cases where user_id = ${user.id}) as cases,
           (select count(*)::int from private.kyc_applicants where user_id = ${user.id}) as applicants,
           (select count(*)::int from private.kyc_documents where user_id = ${user.id}) as documents`;
  return { ...row!, files: (await stack.filesOf(user.id)).length };
}

const NOTHING = { cases: 0, applicants: 0, documents: 0, files: 0 };

function assertProblem(
  result: { status: number; headers: Headers; body: { code?: string } },
  status: number,
  code: string,
) {
  assert.equal(result.status, status, JSON.stringify(result.body));
  assert.equal(result.headers.get("content-type"), "application/problem+json");
  assert.equal(result.body.code, code);
}

Deno.test("a submission is accepted (202), stored, and the event carries ids and digests only", async () => {
  const user = await newUser(sql);
  const result = await submit(stack.kyc, user, [...APPLICANT, doc(PNG), doc(PDF, "back.pdf")]);
  assert.equal(result.status, 202, JSON.stringify(result.body));
  assert.deepEqual(Object.keys(result.body).sort(), ["caseId", "status"]);
  assert.equal(result.body.status, "pending");
  assert.deepEqual(await storedFor(user), { cases: 1, applicants: 1, documents: 2, files: 2 });

  const [event] = await sql`select data, metadata from event_store.events where stream_id = ${
    "kyc-" + result.body.caseId
  }`;
  assert.equal(event!.data.documents.length, 2);
  assert.match(event!.data.documents[0].sha256, /^[0-9a-f]{64}$/);
  assert.doesNotMatch(JSON.stringify(event), /Ann Lee|1990-05-17|passport|back\.pdf|image\/png/);
  const [user_] = await sql`select kyc_status from public.users where user_id = ${user.id}`;
  assert.equal(user_!.kyc_status, "pending");
  const [types] =
    await sql`select array_agg(content_type order by ordinal) as t from private.kyc_documents where case_id = ${result.body.caseId}`;
  assert.deepEqual(types!.t, ["image/png", "application/pdf"], "types come from the bytes");

  const status = await call(stack.kyc, "/kyc", { token: user.token });
  assert.deepEqual(status.body, { status: "pending", canResubmit: false });
});

Deno.test("GET /kyc without a case: none, and a submission is possible", async () => {
  const user = await newUser(sql);
  assert.deepEqual((await call(stack.kyc, "/kyc", { token: user.token })).body, {
    status: "none",
    canResubmit: true,
  });
});

Deno.test("wrong magic bytes: 400, nothing stored", async () => {
  const user = await newUser(sql);
  const gif = new TextEncoder().encode("GIF89a fake image");
  const result = await submit(stack.kyc, user, [...APPLICANT, doc(PNG), ["document", {
    bytes: gif,
    filename: "id.png",
    type: "image/png",
  }]]);
  await assertProblem(result, 400, "validation_failed");
  assert.deepEqual(result.body.errors, [{ path: "document.1", message: "Must be a JPEG, PNG or PDF file." }]);
  assert.deepEqual(await storedFor(user), NOTHING);
});

Deno.test("an oversized file: 413, nothing stored", async () => {
  const user = await newUser(sql);
  const big = new Uint8Array(TEST_LIMITS.fileSizeBytesMax + 1);
  big.set(JPEG);
  await assertProblem(
    await submit(stack.kyc, user, [...APPLICANT, doc(big, "big.jpg")]),
    413,
    "payload_too_large",
  );
  assert.deepEqual(await storedFor(user), NOTHING);
});

Deno.test("a body over the total limit: 413 before parsing", async () => {
  const user = await newUser(sql);
  const big = new Uint8Array(TEST_LIMITS.fileSizeBytesMax * (TEST_LIMITS.filesMax + 2));
  big.set(PNG);
  await assertProblem(await submit(stack.kyc, user, [...APPLICANT, doc(big)]), 413, "payload_too_large");
  assert.deepEqual(await storedFor(user), NOTHING);
});

Deno.test("too many files: 400, nothing stored", async () => {
  const user = await newUser(sql);
  const parts = [...APPLICANT, ...Array.from({ length: TEST_LIMITS.filesMax + 1 }, () => doc(PNG))];
  const result = await submit(stack.kyc, user, parts);
  await assertProblem(result, 400, "validation_failed");
  assert.ok(result.body.errors.some((e: { path: string }) => e.path === "document"));
  assert.deepEqual(await storedFor(user), NOTHING);
});

Deno.test("empty submissions, missing or bad fields, unknown fields: 400, nothing stored", async () => {
  const user = await newUser(sql);
  const cases: [string, Parameters<typeof submit>[2]][] = [
    ["no parts at all", []],
    ["fields but no document", APPLICANT],
    ["a document but no fields", [doc(PNG)]],
    ["an unknown field", [...APPLICANT, doc(PNG), ["nationality", "DE"]]],
    ["a bad country", [["fullName", "Ann Lee"], ["dateOfBirth", "1990-05-17"], ["country", "XX"], doc(PNG)]],
    ["a minor", [["fullName", "Ann Lee"], ["dateOfBirth", "2020-01-01"], ["country", "DE"], doc(PNG)]],
    ["a field twice", [...APPLICANT, ["country", "FR"], doc(PNG)]],
    ["a document as text", [...APPLICANT, ["document", "not a file"]]],
    ["an empty file", [...APPLICANT, doc(new Uint8Array(0))]],
  ];
  for (const [label, parts] of cases) {
    const result = await submit(stack.kyc, user, parts);
    assert.equal(result.status, 400, `${label}: ${JSON.stringify(result.body)}`);
    assert.equal(result.body.code, "validation_failed", label);
  }
  assert.deepEqual(await storedFor(user), NOTHING);
});

Deno.test("not multipart: 415; no token: 401; nothing stored", async () => {
  const user = await newUser(sql);
  await assertProblem(
    await call(stack.kyc, "/kyc", { method: "POST", token: user.token, json: { fullName: "Ann" } }),
    415,
    "unsupported_media_type",
  );
  await assertProblem(
    await call(stack.kyc, "/kyc", {
      method: "POST",
      token: user.token,
      body: "x",
      headers: { "content-type": "multipart/form-data" },
    }),
    415,
    "unsupported_media_type",
  );
  await assertProblem(
    await call(stack.kyc, "/kyc", {
      method: "POST",
      token: user.token,
      body: "garbage",
      headers: { "content-type": "multipart/form-data; boundary=xyz" },
    }),
    400,
    "validation_failed",
  );
  await assertProblem(await call(stack.kyc, "/kyc", { method: "POST", body: "x" }), 401, "unauthenticated");
  await assertProblem(await call(stack.kyc, "/kyc"), 401, "unauthenticated");
  assert.deepEqual(await storedFor(user), NOTHING);
});

Deno.test("a second submission while one is pending is 409, and its files are not kept", async () => {
  const user = await newUser(sql);
  assert.equal((await submit(stack.kyc, user, [...APPLICANT, doc(PNG)])).status, 202);
  await assertProblem(await submit(stack.kyc, user, [...APPLICANT, doc(JPEG)]), 409, "kyc_pending");
  assert.deepEqual(await storedFor(user), { cases: 1, applicants: 1, documents: 1, files: 1 });
});

Deno.test("two simultaneous submissions make exactly one case", async () => {
  for (let round = 0; round < 3; round++) {
    const user = await newUser(sql);
    const results = await Promise.all([
      submit(stack.kyc, user, [...APPLICANT, doc(PNG)]),
      submit(stack.kyc, user, [...APPLICANT, doc(PDF)]),
    ]);
    assert.deepEqual(
      results.map((r) => r.status).sort(),
      [202, 409],
      JSON.stringify(results.map((r) => r.body)),
    );
    assert.deepEqual(await storedFor(user), { cases: 1, applicants: 1, documents: 1, files: 1 });
  }
});

Deno.test("Idempotency-Key: the same request again gets the first answer; other files with it get 409", async () => {
  const user = await newUser(sql);
  const key = { "idempotency-key": `kyc-${crypto.randomUUID()}` };
  const first = await submit(stack.kyc, user, [...APPLICANT, doc(PNG)], key);
  assert.equal(first.status, 202);
  const again = await submit(stack.kyc, user, [...APPLICANT, doc(PNG)], key);
  assert.equal(again.status, 202);
  assert.deepEqual(again.body, first.body);
  await assertProblem(
    await submit(stack.kyc, user, [...APPLICANT, doc(PDF)], key),
    409,
    "idempotency_key_reused",
  );
  assert.deepEqual(await storedFor(user), { cases: 1, applicants: 1, documents: 1, files: 1 });
  await assertProblem(
    await submit(stack.kyc, user, [...APPLICANT, doc(PNG)], { "idempotency-key": "has space" }),
    400,
    "validation_failed",
  );
});

Deno.test("a document route without a valid signature is 404, even for a real file", async () => {
  const user = await newUser(sql);
  const created = await submit(stack.kyc, user, [...APPLICANT, doc(PNG)]);
  const [row] =
    await sql`select storage_key from private.kyc_documents where case_id = ${created.body.caseId}`;
  const stranger = await newUser(sql);
  const path = `/kyc/documents/${row!.storage_key}`;
  await assertProblem(await call(stack.kyc, path, { token: stranger.token }), 404, "not_found");
  await assertProblem(
    await call(stack.kyc, `${path}?expires=99999999999&signature=${"A".repeat(43)}`),
    404,
    "not_found",
  );
});

// ---------- bounded uploads (issue "Close the leaks", item 10) ----------

const MULTIPART = "multipart/form-data; boundary=b";

/** A request body that hands out `chunk`-sized pieces when read, up to `total` bytes, counting them. */
function countedBody(total: number, chunk = 16 * 1024) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const size = Math.min(chunk, total - seen.pulled);
      seen.pulled += size;
      controller.enqueue(new Uint8Array(size).fill(0x2d));
      if (seen.pulled >= total) controller.close();
    },
    cancel() {
      seen.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, seen };
}

Deno.test("an over-limit body without Content-Length (chunked) is 413 as soon as it passes the limit, not read to the end", async () => {
  const user = await newUser(sql);
  const limit = bodyBytesMax(TEST_LIMITS);
  const { stream, seen } = countedBody(64 * limit);
  const result = await call(stack.kyc, "/kyc", {
    method: "POST",
    token: user.token,
    body: stream,
    headers: { "content-type": MULTIPART },
  });
  assertProblem(result, 413, "payload_too_large");
  assert.ok(seen.pulled <= limit + 16 * 1024, `${seen.pulled} bytes read of a limit of ${limit}`);
  assert.ok(seen.cancelled, "the rest of the body was cancelled, not drained");
  assert.deepEqual(await storedFor(user), NOTHING);
});

Deno.test("a declared Content-Length over the limit is 413 before any byte is read", async () => {
  const user = await newUser(sql);
  const limit = bodyBytesMax(TEST_LIMITS);
  const { stream, seen } = countedBody(limit + 1);
  const result = await call(stack.kyc, "/kyc", {
    method: "POST",
    token: user.token,
    body: stream,
    headers: { "content-type": MULTIPART, "content-length": String(limit + 1) },
  });
  assertProblem(result, 413, "payload_too_large");
  assert.equal(seen.pulled, 0);
  assert.deepEqual(await storedFor(user), NOTHING);
});

Deno.test("a body longer than its Content-Length is 413 once it passes the declared length", async () => {
  const user = await newUser(sql);
  const { stream, seen } = countedBody(200 * 1024);
  const result = await call(stack.kyc, "/kyc", {
    method: "POST",
    token: user.token,
    body: stream,
    headers: { "content-type": MULTIPART, "content-length": "1000" },
  });
  assertProblem(result, 413, "payload_too_large");
  assert.ok(seen.pulled <= 1000 + 16 * 1024, `${seen.pulled} bytes read`);
  assert.deepEqual(await storedFor(user), NOTHING);
});

Deno.test("a boundary that breaks RFC 2046 is 400 before the body is read", async () => {
  const user = await newUser(sql);
  const { stream, seen } = countedBody(1000);
  const result = await call(stack.kyc, "/kyc", {
    method: "POST",
    token: user.token,
    body: stream,
    headers: { "content-type": `multipart/form-data; boundary=${"x".repeat(71)}` },
  });
  assertProblem(result, 400, "validation_failed");
  assert.equal(seen.pulled, 0);
});

Deno.test("a submission is held once: its files are views into the one body buffer", async () => {
  const page = new Uint8Array(40 * 1024);
  page.set(PNG);
  const req = new Request("http://localhost/kyc", {
    method: "POST",
    body: form([...APPLICANT, doc(page), doc(page, "b.png"), doc(PDF, "c.pdf")]),
  });
  const head = await readUploadHead(req, TEST_LIMITS);
  const body = await readBody(req, head, TEST_LIMITS);
  const submission = parseSubmission(body.bytes, head.boundary, TEST_LIMITS, new Date());
  assert.equal(submission.files.length, 3);
  const buffers = new Set(submission.files.map((file) => file.bytes.buffer));
  assert.equal(buffers.size, 1, "no file was copied out of the body");
  assert.ok(submission.files[0]!.bytes.byteLength === page.byteLength);
  assert.ok([...buffers][0]!.byteLength < 2 * (2 * page.byteLength + PDF.byteLength + 4096));
  assert.equal(submission.files[2]!.sha256, createHash("sha256").update(PDF).digest("hex"));
  body.free();
  assert.equal(body.bytes.byteLength, 0, "free gives the memory back");
});

Deno.test("uploads beyond the memory budget get 503 with Retry-After and store nothing; the one in progress completes", async () => {
  // Room for exactly one maximal body, and no queue: a second upload while one is read is refused.
  const limits = { ...TEST_LIMITS, memoryBytesMax: bodyBytesMax(TEST_LIMITS), queuedMax: 0 };
  const busy = await kycStack(sql, { limits });
  try {
    const [first, second] = [await newUser(sql), await newUser(sql)];
    const response = new Response(form([...APPLICANT, doc(PNG)]));
    const type = response.headers.get("content-type")!;
    const bytes = new Uint8Array(await response.arrayBuffer());
    let arrive!: () => void;
    const rest = new Promise<void>((resolve) => (arrive = resolve));
    let reading!: () => void;
    const started = new Promise<void>((resolve) => (reading = resolve));
    let step = 0;
    // No Content-Length: the first upload reserves the whole budget, then its body arrives in two halves.
    const slowBody = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (step++ === 0) {
          controller.enqueue(bytes.slice(0, 100));
          reading();
        } else {
          await rest;
          controller.enqueue(bytes.slice(100));
          controller.close();
        }
      },
    }, { highWaterMark: 0 });
    const inProgress = call(busy.kyc, "/kyc", {
      method: "POST",
      token: first.token,
      body: slowBody,
      headers: { "content-type": type },
    });
    await started;
    const refused = await submit(busy.kyc, second, [...APPLICANT, doc(PNG)]);
    assertProblem(refused, 503, "unavailable");
    assert.equal(refused.headers.get("retry-after"), "5");
    assert.equal((await busy.filesOf(second.id)).length, 0);
    arrive();
    assert.equal((await inProgress).status, 202);
    assert.equal((await submit(busy.kyc, second, [...APPLICANT, doc(PNG)])).status, 202, "room again");
  } finally {
    await busy.cleanup();
  }
});
