// Admin user and earnings-run routes, composed into the admin function (admin/handler.ts):
//   GET /admin/users?search=&limit=&cursor=   keyset-paginated, newest first (email prefix, id, referral code)
//   GET /admin/users.csv?search=              the same as CSV, streamed page by page (at most 1,000,000 rows),
//                                             ending with a trailer row (CSV_TRAILER, _shared/http/csv.ts);
//                                             read through readSql (the read replica, like the finance exports)
//   GET /admin/users/{id}?limit=&eventsBefore=   one user at a glance (admin.user_overview): each list
//                                             the newest `limit` (1-100, default 20) with its total;
//                                             recent events page on by `eventsBefore` (a position)
//   GET /admin/earnings-runs?limit=&cursor=   the earnings job's run history, newest first
import { z } from "zod";
import { type UserGuard, userRoute } from "../_shared/auth/guard.ts";
import { json, type Route } from "../_shared/http/app.ts";
import { csvResponse } from "../_shared/http/csv.ts";
import { parseInput, queryParams } from "../_shared/http/body.ts";
import { readPage, toPage } from "../_shared/http/pagination.ts";
import { problems } from "../_shared/http/problem.ts";
import {
  type AdminUser,
  listEarningsRuns,
  listUsers,
  loadUserOverview,
  type UserKey,
} from "../_shared/infra/admin_store.ts";
import type { Sql } from "../_shared/infra/db.ts";
import {
  userOverviewQuery as overviewQuery,
  userSearchQuery as searchQuery,
} from "../_shared/contract/requests.ts";

const userKey = z.tuple([z.iso.datetime({ offset: true }), z.uuid()]);
const runKey = z.number().int().positive().safe();
const CSV_PAGE_ROWS = 1000;
const CSV_ROWS_MAX = 1_000_000;
const CSV_COLUMNS: (keyof AdminUser)[] = [
  "id",
  "email",
  "role",
  "referralCode",
  "referrerId",
  "vipLevel",
  "kycStatus",
  "createdAt",
];
/** `search` only (the JSON list adds `limit` and `cursor`; other parameters are refused by readPage). */
function searchOf(url: URL): string | null {
  return parseInput(searchQuery, queryParams(url, ["search"]), "query").search ?? null;
}

export type UserRoutesDeps = {
  sql: () => Sql;
  /** Where the CSV export reads: the read replica when READ_DATABASE_URL is set (readDb), else `sql`. */
  readSql?: () => Sql;
  guard: UserGuard;
  /** Rows per query of the CSV export, and its row cap (tests make them small). */
  csvPageRows?: number;
  csvRowsMax?: number;
};

export function userRoutes(deps: UserRoutesDeps): Route[] {
  const pageRows = deps.csvPageRows ?? CSV_PAGE_ROWS;
  const rowsMax = deps.csvRowsMax ?? CSV_ROWS_MAX;
  const readSql = deps.readSql ?? deps.sql;
  return [
    {
      method: "GET",
      path: "/users",
      handler: userRoute(deps.guard, async (ctx) => {
        const search = searchOf(ctx.url);
        const page = readPage(ctx.url, userKey, ["search"]);
        const rows = await listUsers(deps.sql(), search, page.limit, page.after);
        return json(toPage(rows, page.limit, (u) => [u.createdAt, u.id]));
      }, { admin: true }),
    },
    {
      method: "GET",
      path: "/users.csv",
      handler: userRoute(deps.guard, async (ctx) => {
        // Everything that can refuse the request happens before the 200: the parameters (unknown ones
        // too, like the JSON list) and the first page's query, whose errors map to problems as anywhere.
        const search = parseInput(searchQuery, queryParams(ctx.url), "query").search ?? null;
        return await csvResponse<AdminUser, UserKey>({
          functionName: "admin",
          requestId: ctx.requestId,
          route: "/users.csv",
          filename: "users.csv",
          columns: CSV_COLUMNS,
          page: (after, limit) => listUsers(readSql(), search, limit, after),
          keyOf: (u) => [u.createdAt, u.id],
          cells: (u) => CSV_COLUMNS.map((c) => u[c]),
          pageRows,
          rowsMax,
        });
      }, { admin: true }),
    },
    {
      method: "GET",
      path: "/users/:id",
      handler: userRoute(deps.guard, async (ctx) => {
        const userId = ctx.params.id!;
        if (!z.uuid().safeParse(userId).success) throw problems.notFound("No such user.");
        const query = parseInput(overviewQuery, Object.fromEntries(ctx.url.searchParams));
        const overview = await loadUserOverview(
          deps.sql(),
          userId,
          query.limit ?? 20,
          query.eventsBefore ?? null,
        );
        if (!overview) throw problems.notFound("No such user.");
        return json(overview);
      }, { admin: true }),
    },
    {
      method: "GET",
      path: "/earnings-runs",
      handler: userRoute(deps.guard, async (ctx) => {
        const page = readPage(ctx.url, runKey);
        const rows = await listEarningsRuns(deps.sql(), page.limit, page.after);
        return json(toPage(rows, page.limit, (r) => r.id));
      }, { admin: true }),
    },
  ];
}
