// GET / PUT /account/notifications: the optional mails a user gets (security and money mails are always
// sent and are not listed). PUT takes every switch (a full replacement; today only commissionDigest).
import { type UserGuard, userRoute } from "../_shared/auth/guard.ts";
import { json, type Route } from "../_shared/http/app.ts";
import { readJson } from "../_shared/http/body.ts";
import type { Sql } from "../_shared/infra/db.ts";
import { loadPreferences, setPreference } from "../_shared/infra/notify_store.ts";
import { notificationPreferencesBody as preferencesBody } from "../_shared/contract/requests.ts";

export function notificationRoutes(sql: () => Sql, guard: UserGuard): Route[] {
  return [
    {
      method: "GET",
      path: "/notifications",
      handler: userRoute(guard, async (_ctx, user) => json(await loadPreferences(sql(), user.userId))),
    },
    {
      method: "PUT",
      path: "/notifications",
      handler: userRoute(guard, async (ctx, user) => {
        const body = await readJson(ctx.req, preferencesBody, 16 * 1024);
        return json(await setPreference(sql(), user.userId, "commission_digest", body.commissionDigest));
      }),
    },
  ];
}
