// Account controls, composed into the admin function (admin/handler.ts):
//   POST /admin/users/{id}/freeze    {reason, note?}  reason: a code (money.account_control_reasons)
//   POST /admin/users/{id}/unfreeze  {reason, note?}
//   POST /admin/users/{id}/role      {role: "admin" | "user", note?}
// Each answers the account's state after the command (200), also when it already was in the asked state
// (`changed: false`, nothing recorded), so a retried request is harmless. The note is private (never in
// an event). Refusals: own account 403, unknown user 404, the last admin 409 last_admin, an unknown
// reason code 400 validation_failed.
import { z } from "zod";
import { userRoute } from "../_shared/auth/guard.ts";
import { type Context, json, type Route } from "../_shared/http/app.ts";
import { readJson } from "../_shared/http/body.ts";
import { type Problem, problems } from "../_shared/http/problem.ts";
import {
  AccountControlRefused,
  changeRole,
  type ControlRefusalReason,
  setAccountFrozen,
} from "../_shared/infra/account_control_store.ts";
import type { AdminRouteDeps } from "./handler.ts";
import { accountControlBody as controlBody, roleBody } from "../_shared/contract/requests.ts";

const BODY_LIMIT_BYTES = 16 * 1024;

const REFUSALS: Record<ControlRefusalReason, () => Problem> = {
  own_account: () => problems.forbidden("Nobody freezes or unfreezes their own account."),
  not_found: () => problems.notFound("No such user."),
  last_admin: () => problems.conflict("Nobody may demote the last admin.", "last_admin"),
  unknown_reason: () =>
    problems.validation([{ path: "reason", message: "Not a reason code for this action." }]),
};

function refusal(error: unknown): unknown {
  return error instanceof AccountControlRefused ? REFUSALS[error.reason]() : error;
}

function userIdOf(ctx: Context): string {
  const id = ctx.params.id!;
  if (!z.uuid().safeParse(id).success) throw problems.notFound("No such user.");
  return id;
}

export function accountControlRoutes(deps: AdminRouteDeps): Route[] {
  const control = (action: "freeze" | "unfreeze"): Route => ({
    method: "POST",
    path: `/users/:id/${action}`,
    handler: userRoute(deps.guard, async (ctx, admin) => {
      const userId = userIdOf(ctx);
      const body = await readJson(ctx.req, controlBody, BODY_LIMIT_BYTES);
      try {
        return json(
          await setAccountFrozen(deps.sql(), {
            userId,
            adminId: admin.userId,
            action,
            reason: body.reason,
            note: body.note ?? null,
            metadata: { requestId: ctx.requestId, actorId: admin.userId },
          }),
        );
      } catch (error) {
        throw refusal(error);
      }
    }, { admin: true }),
  });
  return [
    control("freeze"),
    control("unfreeze"),
    {
      method: "POST",
      path: "/users/:id/role",
      handler: userRoute(deps.guard, async (ctx, admin) => {
        const userId = userIdOf(ctx);
        const body = await readJson(ctx.req, roleBody, BODY_LIMIT_BYTES);
        try {
          return json(
            await changeRole(deps.sql(), {
              userId,
              adminId: admin.userId,
              role: body.role,
              note: body.note ?? null,
              metadata: { requestId: ctx.requestId, actorId: admin.userId },
            }),
          );
        } catch (error) {
          throw refusal(error);
        }
      }, { admin: true }),
    },
  ];
}
