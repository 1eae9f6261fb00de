// The account function: my balances, ledger, contracts and network (CONTRACT.md), all read from
// projections. Authenticated routes: per-IP and per-user rate limits, failing open (see guard.ts).
import { z } from "zod";
import { createUserGuard, userRoute } from "../_shared/auth/guard.ts";
import { type FunctionDeps, functionDepsFromEnv, lazyHandler } from "../_shared/http/function_deps.ts";
import { createApp, json } from "../_shared/http/app.ts";
import { readPage, toPage } from "../_shared/http/pagination.ts";
import { problems } from "../_shared/http/problem.ts";
import {
  listContracts,
  listLedger,
  loadAccountSummary,
  loadNetwork,
} from "../_shared/infra/account_store.ts";
import { notificationRoutes } from "./notification_routes.ts";

const ledgerKey = z.tuple([z.number().int().safe(), z.number().int().min(0).max(32767)]);
const contractKey = z.tuple([z.iso.datetime({ offset: true }), z.uuid()]);

export type AccountDeps = FunctionDeps;

export function createAccountHandler(deps: AccountDeps) {
  const now = deps.now ?? (() => new Date());
  const guard = createUserGuard({ ...deps, now });
  return createApp({
    functionName: "account",
    routes: [
      ...notificationRoutes(deps.sql, guard),
      {
        method: "GET",
        path: "/",
        handler: userRoute(guard, async (_ctx, user) => {
          const summary = await loadAccountSummary(deps.sql(), user.userId);
          if (!summary) throw problems.notFound("No account for this user.");
          return json(summary);
        }),
      },
      {
        method: "GET",
        path: "/ledger",
        handler: userRoute(guard, async (ctx, user) => {
          const page = readPage(ctx.url, ledgerKey);
          const rows = await listLedger(deps.sql(), user.userId, page.limit, page.after);
          return json(toPage(rows, page.limit, (e) => [e.position, e.line]));
        }),
      },
      {
        method: "GET",
        path: "/contracts",
        handler: userRoute(guard, async (ctx, user) => {
          const page = readPage(ctx.url, contractKey);
          const rows = await listContracts(deps.sql(), user.userId, page.limit, page.after, now());
          return json(toPage(rows, page.limit, (c) => [c.startsAt, c.id]));
        }),
      },
      {
        method: "GET",
        path: "/network",
        handler: userRoute(guard, async (_ctx, user) => json(await loadNetwork(deps.sql(), user.userId))),
      },
    ],
  });
}

export const handler = lazyHandler(() => createAccountHandler(functionDepsFromEnv()));
