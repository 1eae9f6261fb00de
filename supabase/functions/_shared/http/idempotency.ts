// Idempotency-Key for POSTs that create something (CONTRACT.md "Base"), for any function:
//   no key                       → the request just runs
//   new key                      → runs; a response below 500 is stored and returned
//   same key, same request       → the stored response again (same status and body), nothing runs;
//                                  while the first is still running, wait for it (up to waitMs), then 409 conflict
//   same key, another request    → 409 idempotency_key_reused
// "Same request" is the route (scope) plus the canonical JSON of the validated body, so whitespace or
// key order do not matter. Keys are per user and live 24 hours. A 5xx is not stored: the retry runs.
// Invalid bodies are refused (400) before the key is looked at, so they are never stored either.
// The run callback gets an operationId to create things under: it stays the same when a claim whose
// owner died is taken over, so a retry after a crash finds what the first attempt created.
import { toProblem } from "./app.ts";
import { problemResponse, problems } from "./problem.ts";
import type { Sql } from "../infra/db.ts";
import {
  claimIdempotentRequest,
  completeIdempotentRequest,
  releaseIdempotentRequest,
} from "../infra/idempotency_store.ts";

export const IDEMPOTENCY_HEADER = "Idempotency-Key";
/** 1–255 visible ASCII characters (CONTRACT.md). */
const KEY_PATTERN = /^[\x21-\x7E]{1,255}$/;

export type IdempotencyOptions = {
  /** How long a duplicate waits for the first request to finish before answering 409. */
  waitMs: number;
  /** A claim older than this is taken to belong to a request that died. */
  staleAfterSeconds: number;
};
export const IDEMPOTENCY_DEFAULTS: IdempotencyOptions = { waitMs: 3000, staleAfterSeconds: 60 };
const POLL_MS_FIRST = 20;
const POLL_MS_MAX = 250;

/** The header's key, or null when absent; a malformed one is a 400 (never silently ignored). */
export function readIdempotencyKey(req: Request): string | null {
  const key = req.headers.get(IDEMPOTENCY_HEADER);
  if (key === null) return null;
  if (!KEY_PATTERN.test(key)) {
    throw problems.validation([{ path: IDEMPOTENCY_HEADER, message: "1 to 255 visible ASCII characters." }]);
  }
  return key;
}

export type IdempotentRequest = {
  userId: string;
  key: string | null;
  /** What the key is for, e.g. "POST /purchases": the same key on another route is a reuse. */
  scope: string;
  /** The validated input. */
  input: unknown;
  requestId: string;
};

export async function idempotent(
  sql: Sql,
  request: IdempotentRequest,
  run: (operationId: string) => Promise<Response>,
  options: IdempotencyOptions = IDEMPOTENCY_DEFAULTS,
): Promise<Response> {
  const { userId, key } = request;
  if (key === null) return await run(crypto.randomUUID());
  const fingerprint = await requestSha256(request.scope, request.input);

  const deadline = Date.now() + options.waitMs;
  let pollMs = POLL_MS_FIRST;
  let operationId: string;
  for (;;) {
    const claim = await claimIdempotentRequest(sql, userId, key, fingerprint, options.staleAfterSeconds);
    if (claim.outcome === "claimed") {
      operationId = claim.operationId;
      break;
    }
    if (claim.outcome === "reused") {
      throw problems.conflict(
        "This Idempotency-Key was used with another request.",
        "idempotency_key_reused",
      );
    }
    if (claim.outcome === "completed") {
      return new Response(claim.body, {
        status: claim.status,
        headers: {
          "Content-Type": claim.contentType ?? "application/json; charset=utf-8",
          "Idempotent-Replayed": "true",
        },
      });
    }
    if (Date.now() + pollMs > deadline) {
      throw problems.conflict("A request with this Idempotency-Key is still in progress; retry later.");
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    pollMs = Math.min(pollMs * 2, POLL_MS_MAX);
  }

  let response: Response;
  try {
    response = await run(operationId);
  } catch (error) {
    const problem = toProblem(error);
    if (problem.status >= 500) {
      await releaseQuietly(sql, userId, key, operationId);
      throw error;
    }
    // A refusal (4xx) is the answer to this request: the same request gets it again.
    response = problemResponse(problem, request.requestId);
  }
  if (response.status >= 500) {
    await releaseQuietly(sql, userId, key, operationId);
    return response;
  }
  const body = await response.text();
  // If storing fails, the error is a 5xx and the claim goes stale: a retry after staleAfterSeconds
  // reruns under the same operationId and finds what this run created.
  await completeIdempotentRequest(sql, userId, key, operationId, {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body,
  });
  return new Response(body, { status: response.status, headers: response.headers });
}

async function releaseQuietly(sql: Sql, userId: string, key: string, operationId: string): Promise<void> {
  try {
    await releaseIdempotentRequest(sql, userId, key, operationId);
  } catch {
    // The claim then goes stale and is taken over after staleAfterSeconds; nothing is lost.
  }
}

export async function requestSha256(scope: string, input: unknown): Promise<Uint8Array> {
  const text = `${scope}\n${canonicalJson(input)}`;
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** JSON with object keys sorted at every depth, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
