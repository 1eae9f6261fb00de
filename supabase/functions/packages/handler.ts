// The packages function: GET /packages, the active catalog, public (CONTRACT.md).
//   [{id, name, priceMinor, currency, dailyRateBps, durationDays}], cheapest first, at most 200
//   Cache-Control: public, max-age=60 (browsers and CDNs may serve it for a minute)
// Any Authorization header is ignored: the answer is the same for everyone, which is what makes it
// cacheable. No rate limit: one indexed read of a small table, cheaper than the limiter's own Redis
// round trip, and a shared cache in front absorbs floods. Publishing and retiring are admin routes
// (supabase/functions/admin/packages_routes.ts).
import { createApp, json } from "../_shared/http/app.ts";
import { listActivePackages } from "../_shared/infra/catalog_store.ts";
import { db, type Sql } from "../_shared/infra/db.ts";

export const CATALOG_MAX_AGE_SECONDS = 60;

export type PackagesDeps = { sql: () => Sql };

export function createPackagesHandler(deps: PackagesDeps) {
  return createApp({
    functionName: "packages",
    routes: [{
      method: "GET",
      path: "/",
      handler: async () =>
        json(await listActivePackages(deps.sql()), 200, {
          "Cache-Control": `public, max-age=${CATALOG_MAX_AGE_SECONDS}`,
        }),
    }],
  });
}

let built: ((req: Request) => Promise<Response>) | undefined;

export const handler = (req: Request) => (built ??= createPackagesHandler({ sql: db }))(req);
