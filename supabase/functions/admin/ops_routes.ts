// Operations routes, composed into the admin function (admin/handler.ts):
//   GET /admin/ops                         the operational figures, last audit, firing alerts (ops schema)
//   GET /admin/alerts?state=&limit=&cursor= alerts newest first; state firing or resolved
import { z } from "zod";
import { type UserGuard, userRoute } from "../_shared/auth/guard.ts";
import { json, type Route } from "../_shared/http/app.ts";
import { parseInput } from "../_shared/http/body.ts";
import { alertStateQuery, opsQuery } from "../_shared/contract/requests.ts";
import { readPage, toPage } from "../_shared/http/pagination.ts";
import type { Sql } from "../_shared/infra/db.ts";
import { listAlerts, readOpsStatus } from "../_shared/infra/ops_store.ts";

const alertKey = z.tuple([z.iso.datetime({ offset: true }), z.number().int().positive().safe()]);

export type OpsRoutesDeps = { sql: () => Sql; guard: UserGuard; now: () => Date };

export function opsRoutes(deps: OpsRoutesDeps): Route[] {
  return [
    {
      method: "GET",
      path: "/ops",
      handler: userRoute(deps.guard, async (ctx) => {
        parseInput(opsQuery, Object.fromEntries(ctx.url.searchParams));
        return json(await readOpsStatus(deps.sql(), deps.now()));
      }, { admin: true }),
    },
    {
      method: "GET",
      path: "/alerts",
      handler: userRoute(deps.guard, async (ctx) => {
        const { state } = parseInput(
          alertStateQuery,
          ctx.url.searchParams.has("state") ? { state: ctx.url.searchParams.get("state") } : {},
        );
        const page = readPage(ctx.url, alertKey, ["state"]);
        const rows = await listAlerts(deps.sql(), state ?? null, page.limit, page.after);
        return json(toPage(rows, page.limit, (a) => [a.firedAt, a.id]));
      }, { admin: true }),
    },
  ];
}
