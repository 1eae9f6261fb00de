// Finance exports, composed into the admin function (admin/handler.ts):
//   GET /admin/exports/{purchases,commissions,withdrawals,ledger,earnings}.csv?from=&to=
// Rows whose time (created, accrued, requested, recorded, period start) lies in the UTC window [from, to),
// oldest first, streamed page by page with no row cap (the window bounds it), ending with the `#end,<rows>`
// trailer row (_shared/http/csv.ts). Columns per kind: _shared/infra/export_store.ts.
import { type UserGuard, userRoute } from "../_shared/auth/guard.ts";
import type { Route } from "../_shared/http/app.ts";
import { parseInput, queryParams } from "../_shared/http/body.ts";
import { csvTextResponse } from "../_shared/http/csv.ts";
import { exportWindowQuery } from "../_shared/contract/requests.ts";
import { problems } from "../_shared/http/problem.ts";
import type { Sql } from "../_shared/infra/db.ts";
import { EXPORT_KINDS, type ExportKey, EXPORTS } from "../_shared/infra/export_store.ts";

/** Rows per COPY: about 1.5 MB of ledger CSV held at a time, 100 statements for a million rows. */
const EXPORT_PAGE_ROWS = 10_000;
/** A leap year and no more: enough for any yearly close, small enough that one request has an end. */
export const EXPORT_WINDOW_DAYS_MAX = 366;
const DAY_MS = 86_400_000;

const windowQuery = exportWindowQuery;

export function exportWindow(url: URL): { from: string; to: string } {
  const window = parseInput(windowQuery, queryParams(url), "query");
  const days = (Date.parse(window.to) - Date.parse(window.from)) / DAY_MS;
  if (days <= 0) throw problems.validation([{ path: "to", message: "Must be after from." }]);
  if (days > EXPORT_WINDOW_DAYS_MAX) {
    throw problems.validation([{
      path: "to",
      message: `At most ${EXPORT_WINDOW_DAYS_MAX} days after from.`,
    }]);
  }
  return window;
}

export type ExportRoutesDeps = {
  sql: () => Sql;
  /** Where exports read: the read replica when READ_DATABASE_URL is set (readDb), else \`sql\`. */
  readSql?: () => Sql;
  guard: UserGuard;
  /** Rows per query (tests make it small). */
  exportPageRows?: number;
};

export function exportRoutes(deps: ExportRoutesDeps): Route[] {
  const pageRows = deps.exportPageRows ?? EXPORT_PAGE_ROWS;
  const readSql = deps.readSql ?? deps.sql;
  return EXPORT_KINDS.map((kind): Route => {
    const spec = EXPORTS[kind];
    return {
      method: "GET",
      path: `/exports/${kind}.csv`,
      handler: userRoute(deps.guard, async (ctx) => {
        const { from, to } = exportWindow(ctx.url);
        return await csvTextResponse<ExportKey>({
          functionName: "admin",
          requestId: ctx.requestId,
          route: `/exports/${kind}.csv`,
          filename: `${kind}_${from.slice(0, 10)}_${to.slice(0, 10)}.csv`,
          columns: spec.columns,
          page: (after, limit) => spec.page(readSql(), from, to, after, limit),
          pageRows,
        });
      }, { admin: true }),
    };
  });
}
