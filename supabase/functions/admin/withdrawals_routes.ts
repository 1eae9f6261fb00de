// Admin withdrawal routes, composed into the admin function (admin/handler.ts):
//   GET  /admin/withdrawals?status=&limit=&cursor=   the review queue, oldest first
//   POST /admin/withdrawals/{id}/decision            {decision: approve|reject|mark_paid, reference?, reason?}
// Every decision records the admin (event metadata and data); nobody decides their own withdrawal.
import { z } from "zod";
import { type UserGuard, userRoute } from "../_shared/auth/guard.ts";
import { json, type Route } from "../_shared/http/app.ts";
import { parseInput, queryParams, readJson } from "../_shared/http/body.ts";
import { readPage, toPage } from "../_shared/http/pagination.ts";
import { problems } from "../_shared/http/problem.ts";
import { withdrawalProblem } from "../_shared/http/withdrawal_problems.ts";
import type { Sql } from "../_shared/infra/db.ts";
import { decideWithdrawal, listWithdrawalsForReview } from "../_shared/infra/withdrawal_store.ts";
import {
  withdrawalDecisionBody as decisionBody,
  withdrawalStatusQuery as statusQuery,
} from "../_shared/contract/requests.ts";

const DECISION_BODY_LIMIT_BYTES = 16 * 1024;

const queueKey = z.tuple([z.iso.datetime({ offset: true }), z.uuid()]);

export type WithdrawalRoutesDeps = { sql: () => Sql; guard: UserGuard };

export function withdrawalRoutes(deps: WithdrawalRoutesDeps): Route[] {
  return [
    {
      method: "GET",
      path: "/withdrawals",
      handler: userRoute(deps.guard, async (ctx) => {
        const { status } = parseInput(statusQuery, queryParams(ctx.url, ["status"]), "query");
        const page = readPage(ctx.url, queueKey, ["status"]);
        const rows = await listWithdrawalsForReview(deps.sql(), status ?? null, page.limit, page.after);
        return json(toPage(rows, page.limit, (w) => [w.requestedAt, w.id]));
      }, { admin: true }),
    },
    {
      method: "POST",
      path: "/withdrawals/:id/decision",
      handler: userRoute(deps.guard, async (ctx, admin) => {
        const withdrawalId = ctx.params.id!;
        if (!z.uuid().safeParse(withdrawalId).success) throw problems.notFound("No such withdrawal.");
        const body = await readJson(ctx.req, decisionBody, DECISION_BODY_LIMIT_BYTES);
        try {
          return json(
            await decideWithdrawal(deps.sql(), {
              withdrawalId,
              adminId: admin.userId,
              decision: body.decision,
              reference: body.reference ?? null,
              reason: body.reason ?? null,
              metadata: { requestId: ctx.requestId, actorId: admin.userId },
            }),
          );
        } catch (error) {
          throw withdrawalProblem(error);
        }
      }, { admin: true }),
    },
  ];
}
