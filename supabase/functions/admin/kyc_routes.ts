// Admin KYC review: the queue, a case with short-lived document links, and decisions one at a time or in
// bulk. Every decision records the admin (event data and metadata); nobody decides their own case; the
// state machine (domain/kyc/kyc_case.ts) says which transitions exist, and kyc.record_decision checks
// them again under the case's row lock.
import { z } from "zod";
import { userRoute } from "../_shared/auth/guard.ts";
import type { AuthUser } from "../_shared/auth/require_user.ts";
import { decideDecision } from "../_shared/domain/kyc/kyc_case.ts";
import { type Context, json, type Route, toProblem } from "../_shared/http/app.ts";
import { parseInput, queryParams, readJson } from "../_shared/http/body.ts";
import { readPage, toPage } from "../_shared/http/pagination.ts";
import { type Problem, problems } from "../_shared/http/problem.ts";
import { DocumentStorageError } from "../_shared/infra/document_storage/document_storage.ts";
import {
  type CaseKey,
  type DecisionResult,
  KycStoreError,
  listCases,
  loadCase,
  loadCaseDetail,
  recordDecision,
} from "../_shared/infra/kyc_store.ts";
import type { AdminRouteDeps } from "./handler.ts";
import {
  BULK_DECISIONS_MAX,
  kycBulkDecisionBody as bulkBody,
  kycDecisionBody as decisionBody,
  type KycDecisionInput,
  kycStatusQuery as statusQuery,
} from "../_shared/contract/requests.ts";

export { BULK_DECISIONS_MAX };
const UUID = z.uuid();
const caseKey = z.tuple([z.number().int().safe().min(0), z.uuid()]);

export function kycRoutes(deps: AdminRouteDeps): Route[] {
  async function decide(
    caseId: string,
    input: KycDecisionInput,
    admin: AuthUser,
    requestId: string,
  ): Promise<DecisionResult> {
    const sql = deps.sql();
    const state = await loadCase(sql, caseId);
    if (!state) throw problems.notFound("No such KYC case.");
    const decided = decideDecision(state, {
      caseId,
      adminId: admin.userId,
      decision: input.decision,
      final: input.final ?? false,
    });
    if (!decided.ok) {
      if (decided.refusal === "own_case") throw problems.forbidden("Nobody decides their own KYC case.");
      throw problems.unprocessable(
        "invalid_state",
        `A case that is ${state.status} cannot take "${input.decision}".`,
      );
    }
    try {
      return await recordDecision(sql, {
        event: decided.events[0]!,
        expectedVersion: state.version,
        reason: input.reason ?? null,
        note: input.note ?? null,
        requestId,
      });
    } catch (error) {
      if (!(error instanceof KycStoreError)) throw error;
      if (error.refusal === "unknown_case") throw problems.notFound("No such KYC case.");
      if (error.refusal === "forbidden") throw problems.forbidden("You may not decide this case.");
      throw problems.unprocessable("invalid_state", "The case changed; reload it.");
    }
  }

  async function list(ctx: Context): Promise<Response> {
    const { status } = parseInput(statusQuery, queryParams(ctx.url, ["status"]), "query");
    const page = readPage(ctx.url, caseKey as z.ZodType<CaseKey>, ["status"]);
    const rows = await listCases(deps.sql(), {
      status: status ?? null,
      limit: page.limit,
      after: page.after,
    });
    const { items, nextCursor } = toPage(rows, page.limit, (row): CaseKey => [row.position, row.caseId]);
    return json({ items: items.map(({ position: _position, ...item }) => item), nextCursor });
  }

  async function show(ctx: Context): Promise<Response> {
    const caseId = ctx.params.caseId!;
    if (!UUID.safeParse(caseId).success) throw problems.notFound("No such KYC case.");
    const detail = await loadCaseDetail(deps.sql(), caseId);
    if (!detail) throw problems.notFound("No such KYC case.");
    const storage = await deps.storage();
    let documents;
    try {
      documents = await Promise.all(detail.documents.map(async ({ storageKey, ...document }) => ({
        ...document,
        ...(await storage.link(storageKey, deps.linkTtlSeconds)),
      })));
    } catch (error) {
      if (error instanceof DocumentStorageError) {
        throw problems.unavailable("Document storage is unavailable.");
      }
      throw error;
    }
    return json({ ...detail, documents });
  }

  async function decideOne(ctx: Context, admin: AuthUser): Promise<Response> {
    const input = await readJson(ctx.req, decisionBody);
    const caseId = ctx.params.caseId!;
    if (!UUID.safeParse(caseId).success) throw problems.notFound("No such KYC case.");
    return json(await decide(caseId, input, admin, ctx.requestId));
  }

  /** Each item is its own transaction, in order; one refusal does not undo or stop the others. */
  async function decideMany(ctx: Context, admin: AuthUser): Promise<Response> {
    const { items } = await readJson(ctx.req, bulkBody);
    const results = [];
    for (const { caseId, ...input } of items) {
      try {
        results.push({ caseId, status: 200, result: await decide(caseId, input, admin, ctx.requestId) });
      } catch (error) {
        const problem: Problem = toProblem(error);
        if (problem.status === 500) throw error; // a bug: the whole request is a logged 500
        results.push({
          caseId,
          status: problem.status,
          error: { code: problem.code, detail: problem.detail },
        });
      }
    }
    return json({ results });
  }

  const admin = { admin: true };
  return [
    { method: "GET", path: "/kyc", handler: userRoute(deps.guard, list, admin) },
    { method: "POST", path: "/kyc/decisions", handler: userRoute(deps.guard, decideMany, admin) },
    { method: "GET", path: "/kyc/:caseId", handler: userRoute(deps.guard, show, admin) },
    { method: "POST", path: "/kyc/:caseId/decision", handler: userRoute(deps.guard, decideOne, admin) },
  ];
}
