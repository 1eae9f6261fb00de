// Admin catalog routes, composed into the admin function (admin/handler.ts):
//   POST /admin/packages              {name, priceMinor, currency, dailyRateBps, durationDays} → 201 package
//   POST /admin/packages/{id}/retire  → 200 package; unknown 404, already retired 409 conflict
// Packages are priced in the platform currency (money.settings): another one is 422 invalid_currency.
// Every decision records who made it: {actorId, requestId} on the event's metadata. Publishing takes
// an Idempotency-Key (the package id is the key's operation id, so a retry never publishes twice).
import { type UserGuard, userRoute } from "../_shared/auth/guard.ts";
import { json, type Route } from "../_shared/http/app.ts";
import { readJson } from "../_shared/http/body.ts";
import {
  IDEMPOTENCY_DEFAULTS,
  type IdempotencyOptions,
  idempotent,
  readIdempotencyKey,
} from "../_shared/http/idempotency.ts";
import { problems } from "../_shared/http/problem.ts";
import {
  CurrencyNotAcceptedError,
  loadPackage,
  PackageAlreadyRetiredError,
  PackageExistsError,
  publishPackage,
  retirePackage,
  UnknownPackageError,
} from "../_shared/infra/catalog_store.ts";
import type { Sql } from "../_shared/infra/db.ts";
import { newPackageBody } from "../_shared/contract/requests.ts";
export { newPackageBody };

const PACKAGE_BODY_LIMIT_BYTES = 16 * 1024;

export type PackageRoutesDeps = { sql: () => Sql; guard: UserGuard; idempotency?: IdempotencyOptions };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function packageRoutes(deps: PackageRoutesDeps): Route[] {
  return [
    {
      method: "POST",
      path: "/packages",
      handler: userRoute(deps.guard, async (ctx, admin) => {
        const key = readIdempotencyKey(ctx.req);
        const body = await readJson(ctx.req, newPackageBody, PACKAGE_BODY_LIMIT_BYTES);
        const request = {
          userId: admin.userId,
          key,
          scope: "POST /admin/packages",
          input: body,
          requestId: ctx.requestId,
        };
        return await idempotent(deps.sql(), request, async (packageId) => {
          const metadata = { actorId: admin.userId, requestId: ctx.requestId };
          try {
            return json(await publishPackage(deps.sql(), packageId, body, metadata), 201);
          } catch (error) {
            if (error instanceof CurrencyNotAcceptedError) {
              throw problems.unprocessable(
                "invalid_currency",
                "Packages are priced in the platform currency.",
              );
            }
            // The same package id again: a retry whose first attempt published and then died.
            if (error instanceof PackageExistsError) {
              const existing = await loadPackage(deps.sql(), packageId);
              if (existing) return json(existing, 201);
            }
            throw error;
          }
        }, deps.idempotency ?? IDEMPOTENCY_DEFAULTS);
      }, { admin: true }),
    },
    {
      method: "POST",
      path: "/packages/:id/retire",
      handler: userRoute(deps.guard, async (ctx, admin) => {
        const packageId = ctx.params.id!;
        if (!UUID.test(packageId)) throw problems.notFound("No such package.");
        try {
          return json(
            await retirePackage(deps.sql(), packageId, { actorId: admin.userId, requestId: ctx.requestId }),
          );
        } catch (error) {
          if (error instanceof UnknownPackageError) throw problems.notFound("No such package.");
          if (error instanceof PackageAlreadyRetiredError) {
            throw problems.conflict("The package is already retired.");
          }
          throw error;
        }
      }, { admin: true }),
    },
  ];
}
