// Admin user and earnings-run routes, composed into the admin function (admin/handler.ts):
//   GET /admin/users?search=&limit=&cursor=   keyset-paginated, newest first (email prefix, id, referral code)
//   GET /admin/users.csv?search=              the same as CSV, streamed page by page (at most 1,000,000 rows)
//   GET /admin/users/{id}?limit=&eventsBefore=   one user at a glance (admin.user_overview): each list
//                                             the newest `limit` (1-100, default 20) with its total;
//                                             recent events page on by `eventsBefore` (a position)
//   GET /admin/earnings-runs?limit=&cursor=   the earnings job's run history, newest first
import { z } from "zod";
import { type UserGuard, userRoute } from "../_shared/auth/guard.ts";
import { json, type Route } from "../_shared/http/app.ts";
import { parseInput } from "../_shared/http/body.ts";
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

const userKey = z.tuple([z.iso.datetime({ offset: true }), z.uuid()]);
const runKey = z.number().int().positive().safe();
const searchQuery = z.strictObject({ search: z.string().max(320).optional() });
const overviewQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  eventsBefore: z.coerce.number().int().positive().safe().optional(),
});
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

function searchOf(url: URL): string | null {
  const { search } = parseInput(
    searchQuery,
    url.searchParams.has("search") ? { search: url.searchParams.get("search") } : {},
  );
  return search ?? null;
}

/** RFC 4180 quoting, and a leading quote for values a spreadsheet would run as a formula. */
export function csvField(value: unknown): string {
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export type UserRoutesDeps = { sql: () => Sql; guard: UserGuard };

export function userRoutes(deps: UserRoutesDeps): Route[] {
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
      handler: userRoute(deps.guard, (ctx) => {
        const search = searchOf(ctx.url);
        const encoder = new TextEncoder();
        let after: UserKey | null = null;
        let sent = 0;
        let headerSent = false;
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (!headerSent) {
              headerSent = true;
              controller.enqueue(encoder.encode(CSV_COLUMNS.join(",") + "\r\n"));
              return;
            }
            const rows = await listUsers(deps.sql(), search, CSV_PAGE_ROWS, after);
            const page = rows.slice(0, CSV_PAGE_ROWS);
            if (page.length > 0) {
              const text = page.map((u) => CSV_COLUMNS.map((c) => csvField(u[c])).join(",") + "\r\n").join(
                "",
              );
              controller.enqueue(encoder.encode(text));
              sent += page.length;
              after = [page.at(-1)!.createdAt, page.at(-1)!.id];
            }
            if (rows.length <= CSV_PAGE_ROWS || sent >= CSV_ROWS_MAX) controller.close();
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
