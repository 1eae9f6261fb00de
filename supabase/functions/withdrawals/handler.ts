// The withdrawals function (CONTRACT.md):
//   POST /withdrawals {amountMinor, currency, destination} → 201 pending; 403 kyc_required;
//        422 insufficient_funds / invalid_amount. Idempotency-Key as everywhere.
//   GET  /withdrawals?limit=&cursor= → mine, newest first.
// KYC and the balance are checked in the same transaction as the debit (money.request_withdrawal).
import { z } from "zod";
import { createUserGuard, userRoute } from "../_shared/auth/guard.ts";
import { type FunctionDeps, functionDepsFromEnv, lazyHandler } from "../_shared/http/function_deps.ts";
import { createApp, json } from "../_shared/http/app.ts";
import { readJson } from "../_shared/http/body.ts";
import {
  IDEMPOTENCY_DEFAULTS,
  type IdempotencyOptions,
  idempotent,
  readIdempotencyKey,
} from "../_shared/http/idempotency.ts";
import { readPage, toPage } from "../_shared/http/pagination.ts";
import { withdrawalProblem } from "../_shared/http/withdrawal_problems.ts";
import { listMyWithdrawals, requestWithdrawal } from "../_shared/infra/withdrawal_store.ts";
import { withdrawalBody } from "../_shared/contract/requests.ts";

const WITHDRAWAL_BODY_LIMIT_BYTES = 16 * 1024;

const withdrawalKey = z.tuple([z.iso.datetime({ offset: true }), z.uuid()]);

export type WithdrawalsDeps = FunctionDeps & {
  idempotency?: IdempotencyOptions;
};

export function createWithdrawalsHandler(deps: WithdrawalsDeps) {
  const guard = createUserGuard({ ...deps, now: deps.now ?? (() => new Date()) });
  return createApp({
    functionName: "withdrawals",
    routes: [
      {
        method: "POST",
        path: "/",
        handler: userRoute(guard, async (ctx, user) => {
          const key = readIdempotencyKey(ctx.req);
          const body = await readJson(ctx.req, withdrawalBody, WITHDRAWAL_BODY_LIMIT_BYTES);
          const request = {
            userId: user.userId,
            key,
            scope: "POST /withdrawals",
            input: body,
            requestId: ctx.requestId,
          };
          return await idempotent(deps.sql(), request, async (withdrawalId) => {
            try {
              const withdrawal = await requestWithdrawal(deps.sql(), {
                withdrawalId,
                userId: user.userId,
                ...body,
                metadata: { requestId: ctx.requestId, actorId: user.userId },
              });
              return json(withdrawal, 201);
            } catch (error) {
              throw withdrawalProblem(error);
            }
          }, deps.idempotency ?? IDEMPOTENCY_DEFAULTS);
        }),
      },
      {
        method: "GET",
        path: "/",
        handler: userRoute(guard, async (ctx, user) => {
          const page = readPage(ctx.url, withdrawalKey);
          const rows = await listMyWithdrawals(deps.sql(), user.userId, page.limit, page.after);
          return json(toPage(rows, page.limit, (w) => [w.requestedAt, w.id]));
        }),
      },
    ],
  });
}

export const handler = lazyHandler(() => createWithdrawalsHandler(functionDepsFromEnv()));
