// The kyc function: submit identity documents and read my KYC status (CONTRACT.md), plus the route the
// local folder storage's signed document links point at. Authenticated routes: per-IP and per-user
// rate limits, failing open (see guard.ts).
//
// POST /kyc, in order: token → headers (415, 413 on a declared length over the limit) → room in the
// upload memory budget (upload_budget.ts; 503 with Retry-After when there is none in time) → body
// (multipart, bounded, validated: nothing stored on any 4xx) → Idempotency-Key replay → the state
// machine (409 while pending) → files to storage → one SQL call that re-checks the rules under the
// user's row lock and appends KycSubmitted. If that call refuses (a concurrent submission won), the
// files just stored are deleted again. The budget is given back once the answer is decided.
import { createUserGuard, userRoute } from "../_shared/auth/guard.ts";
import type { AuthUser } from "../_shared/auth/require_user.ts";
import { extensionOf } from "../_shared/domain/kyc/document_type.ts";
import {
  canResubmit,
  decideSubmission,
  publicStatus,
  type SubmitRefusal,
} from "../_shared/domain/kyc/kyc_case.ts";
import { type FunctionDeps, functionDepsFromEnv, lazyHandler } from "../_shared/http/function_deps.ts";
import type { Sql } from "../_shared/infra/db.ts";
import { type Context, createApp, json } from "../_shared/http/app.ts";
import { Problem, problems } from "../_shared/http/problem.ts";
import {
  documentKey,
  type DocumentStorage,
  DocumentStorageError,
} from "../_shared/infra/document_storage/document_storage.ts";
import { documentStorageFromEnv } from "../_shared/infra/document_storage/from_env.ts";
import { LocalFolderStorage } from "../_shared/infra/document_storage/local_folder_storage.ts";
import {
  KycStoreError,
  loadUserKyc,
  type StoredDocumentInfo,
  submitCase,
  submittedDigests,
} from "../_shared/infra/kyc_store.ts";
import { parseSubmission, readBody, readUploadHead, sha256Hex, type Submission } from "./submission_form.ts";
import { UploadBudget } from "./upload_budget.ts";
import { type KycUploadLimits, uploadLimitsFromEnv } from "./upload_limits.ts";

export type KycDeps = FunctionDeps & {
  storage: () => Promise<DocumentStorage>;
  limits: KycUploadLimits;
};

const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export function submissionProblem(refusal: SubmitRefusal): Problem {
  switch (refusal) {
    case "case_pending":
      return problems.conflict("A KYC case is under review; wait for its decision.", "kyc_pending");
    case "already_approved":
      return problems.unprocessable("invalid_state", "Your identity is verified already.");
    case "resubmission_not_allowed":
      return problems.unprocessable("invalid_state", "Your KYC case was closed; you cannot submit again.");
  }
}

export function createKycHandler(deps: KycDeps) {
  const now = deps.now ?? (() => new Date());
  const guard = createUserGuard({ ...deps, now });
  const budget = new UploadBudget(deps.limits);

  async function submit(ctx: Context, user: AuthUser): Promise<Response> {
    const idempotencyKey = ctx.req.headers.get("idempotency-key");
    if (idempotencyKey !== null && !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
      await ctx.req.body?.cancel();
      throw problems.validation([{ path: "Idempotency-Key", message: "1 to 255 visible ASCII characters." }]);
    }
    const head = await readUploadHead(ctx.req, deps.limits);
    let release: () => void;
    try {
      release = await budget.reserve(head.bytesMax);
    } catch (error) {
      await ctx.req.body?.cancel();
      throw error;
    }
    try {
      const body = await readBody(ctx.req, head, deps.limits);
      try {
        const submission = parseSubmission(body.bytes, head.boundary, deps.limits, now());
        return await submitBody(ctx, user, submission, idempotencyKey);
      } finally {
        body.free(); // the files were views into it: stored by now, or refused
      }
    } finally {
      release();
    }
  }

  async function submitBody(
    ctx: Context,
    user: AuthUser,
    submission: Submission,
    idempotencyKey: string | null,
  ): Promise<Response> {
    const sql = deps.sql();
    const digests = submission.files.map((f) => f.sha256);
    // With a key, the case id is derived from it: a retry names the same case and gets the first answer.
    const caseId = idempotencyKey ? caseIdFor(user.userId, idempotencyKey) : crypto.randomUUID();
    if (idempotencyKey) {
      const replay = await replayOf(sql, caseId, user.userId, digests);
      if (replay) return replay;
    }

    const { latest } = await loadUserKyc(sql, user.userId);
    const documents = submission.files.map((f) => ({ documentId: crypto.randomUUID(), sha256: f.sha256 }));
    const decided = decideSubmission(latest, { caseId, userId: user.userId, documents });
    if (!decided.ok) throw submissionProblem(decided.refusal);

    const storage = await deps.storage();
    const stored = await storeFiles(storage, user.userId, caseId, submission, documents);
    try {
      const result = await submitCase(sql, {
        event: decided.events[0]!,
        applicant: submission.applicant,
        documents: stored,
        requestId: ctx.requestId,
      });
      return json(result, 202);
    } catch (error) {
      await storage.remove(stored.map((d) => d.storageKey)).catch((cleanup) =>
        logCleanupFailure(cleanup, caseId)
      );
      if (error instanceof KycStoreError) {
        if (error.refusal === "case_exists" && idempotencyKey) {
          const replay = await replayOf(sql, caseId, user.userId, digests);
          if (replay) return replay;
        }
        if (error.refusal === "case_pending") throw submissionProblem("case_pending");
        if (error.refusal === "submission_not_allowed") {
          throw problems.unprocessable("invalid_state", "You cannot submit KYC documents now.");
        }
        if (error.refusal === "unknown_user") {
          throw problems.unauthenticated("This account no longer exists.");
        }
      }
      throw error;
    }
  }

  async function status(_ctx: Context, user: AuthUser): Promise<Response> {
    const { latest, reason } = await loadUserKyc(deps.sql(), user.userId);
    const view = publicStatus(latest);
    // Only a refusal explains itself to the user; approvals and pending cases carry no reason.
    const showReason = reason !== null && (view === "rejected" || view === "resubmission_requested");
    return json({ status: view, ...(showReason ? { reason } : {}), canResubmit: canResubmit(latest) });
  }

  /** Local folder storage only: the signed, expiring link an admin got from GET /admin/kyc/{caseId}. */
  async function document(ctx: Context): Promise<Response> {
    const storage = await deps.storage();
    if (!(storage instanceof LocalFolderStorage)) throw problems.notFound();
    const key = `${ctx.params.userId}/${ctx.params.caseId}/${ctx.params.file}`;
    const opened = await storage.open(
      key,
      ctx.url.searchParams.get("expires"),
      ctx.url.searchParams.get("signature"),
    );
    // An unknown, foreign or tampered link is indistinguishable from a missing file.
    if (opened === "invalid") throw problems.notFound();
    if (opened === "expired") throw problems.forbidden("This link has expired; ask for a new one.");
    return new Response(opened.bytes as Uint8Array<ArrayBuffer>, {
      headers: {
        "Content-Type": opened.contentType,
        "Content-Disposition": `attachment; filename="${ctx.params.file}"`,
        "Cache-Control": "private, no-store",
      },
    });
  }

  return createApp({
    functionName: "kyc",
    routes: [
      { method: "POST", path: "/", handler: userRoute(guard, submit) },
      { method: "GET", path: "/", handler: userRoute(guard, status) },
      { method: "GET", path: "/documents/:userId/:caseId/:file", handler: document },
    ],
  });
}

async function storeFiles(
  storage: DocumentStorage,
  userId: string,
  caseId: string,
  submission: Submission,
  documents: { documentId: string; sha256: string }[],
): Promise<StoredDocumentInfo[]> {
  const stored: StoredDocumentInfo[] = [];
  try {
    for (const [i, file] of submission.files.entries()) {
      const { documentId, sha256 } = documents[i]!;
      const storageKey = documentKey(userId, caseId, documentId, extensionOf(file.contentType));
      await storage.put(storageKey, file.bytes, file.contentType);
      stored.push({
        documentId,
        sha256,
        contentType: file.contentType,
        sizeBytes: file.bytes.byteLength,
        storageKey,
      });
    }
    return stored;
  } catch (error) {
    await storage.remove(stored.map((d) => d.storageKey)).catch((cleanup) =>
      logCleanupFailure(cleanup, caseId)
    );
    if (error instanceof DocumentStorageError) {
      throw problems.unavailable("Document storage is unavailable; retry later.");
    }
    throw error;
  }
}

/** The same key and the same files: the first answer again. The same key with other files: 409. */
async function replayOf(
  sql: Sql,
  caseId: string,
  userId: string,
  digests: string[],
): Promise<Response | null> {
  const first = await submittedDigests(sql, caseId);
  if (!first) return null;
  if (first.userId !== userId || first.sha256.join() !== digests.join()) {
    throw problems.conflict("This Idempotency-Key was used with another request.", "idempotency_key_reused");
  }
  return json({ caseId, status: "pending" }, 202);
}

/** A UUID (version 8, RFC 9562) from the user and their key: one key names one case. */
function caseIdFor(userId: string, idempotencyKey: string): string {
  const hex = sha256Hex(new TextEncoder().encode(`kyc-case:${userId}:${idempotencyKey}`)).slice(0, 32);
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${
    hex.slice(20, 32)
  }`;
}

function logCleanupFailure(error: unknown, caseId: string): void {
  console.error(JSON.stringify({
    time: new Date().toISOString(),
    level: "error",
    event: "kyc_document_cleanup_failed",
    caseId,
    error: error instanceof Error ? error.name : String(error),
  }));
}

let storage: Promise<DocumentStorage> | undefined;

export const handler = lazyHandler(() => {
  const limits = uploadLimitsFromEnv();
  return createKycHandler({
    ...functionDepsFromEnv(),
    storage: () => (storage ??= documentStorageFromEnv(limits.fileSizeBytesMax)),
    limits,
  });
});
