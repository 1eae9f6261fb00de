// Admin user and earnings-run routes, composed into the admin function (admin/handler.ts):
//   GET /admin/users?search=&limit=&cursor=   keyset-paginated, newest first (email prefix, id, referral code)
//   GET /admin/users.csv?search=              the same as CSV, streamed page by page (at most 1,000,000 rows),
//                                             ending with a trailer row (CSV_TRAILER below)
//   GET /admin/users/{id}?limit=&eventsBefore=   one user at a glance (admin.user_overview): each list
//                                             the newest `limit` (1-100, default 20) with its total;
//                                             recent events page on by `eventsBefore` (a position)
//   GET /admin/earnings-runs?limit=&cursor=   the earnings job's run history, newest first
import { z } from "zod";
import { type UserGuard, userRoute } from "../_shared/auth/guard.ts";
import { json, logError, type Route } from "../_shared/http/app.ts";
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
/** A CSV's status and headers are sent before its rows, so a failure later can only cut the body short.
 * A complete export therefore ends with one trailer row, padded to the column count: `#end,<rows>` when
 * every matching user was sent, `#limit,<rows>` when the row cap stopped it. No trailer: truncated. */
export const CSV_TRAILER = { complete: "#end", capped: "#limit" } as const;

/** `search` only (the JSON list adds `limit` and `cursor`; other parameters are refused by readPage). */
function searchOf(url: URL): string | null {
  return parseInput(searchQuery, queryParams(url, ["search"]), "query").search ?? null;
}

/** RFC 4180 quoting, and a leading quote for values a spreadsheet would run as a formula. */
export function csvField(value: unknown): string {
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export type UserRoutesDeps = {
  sql: () => Sql;
  guard: UserGuard;
  /** Rows per query of the CSV export, and its row cap (tests make them small). */
  csvPageRows?: number;
  csvRowsMax?: number;
};

export function userRoutes(deps: UserRoutesDeps): Route[] {
  const pageRows = deps.csvPageRows ?? CSV_PAGE_ROWS;
  const rowsMax = deps.csvRowsMax ?? CSV_ROWS_MAX;
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
        let prefetched: AdminUser[] | null = await listUsers(deps.sql(), search, pageRows, null);
        let after: UserKey | null = null;
        let sent = 0;
        const encoder = new TextEncoder();
        const line = (fields: unknown[]) => fields.map(csvField).join(",") + "\r\n";
        const trailer = (mark: string) =>
          line([mark, sent, ...Array<string>(CSV_COLUMNS.length - 2).fill("")]);
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(encoder.encode(CSV_COLUMNS.join(",") + "\r\n"));
          },
          async pull(controller) {
            try {
              // Each query asks for one row more than a page: that row only says whether more follow.
              const rows = prefetched ?? await listUsers(deps.sql(), search, pageRows, after);
              prefetched = null;
              const page = rows.slice(0, Math.min(pageRows, rowsMax - sent));
              let text = page.map((u) => line(CSV_COLUMNS.map((c) => u[c]))).join("");
              sent += page.length;
              if (page.length > 0) after = [page.at(-1)!.createdAt, page.at(-1)!.id];
              const more = rows.length > page.length;
              const done = !more || sent >= rowsMax;
              if (done) text += trailer(more ? CSV_TRAILER.capped : CSV_TRAILER.complete);
              controller.enqueue(encoder.encode(text));
              if (done) controller.close();
            } catch (error) {
              // The 200 is gone: log it with the request id, then cut the body (no trailer row).
              logError("admin", ctx.requestId, error, {
                route: "/users.csv",
                phase: "stream",
                rowsSent: sent,
              });
              controller.error(error);
            }
          },
        });
        return new Response(body, {
          headers: {
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="users.csv"',
          },
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
