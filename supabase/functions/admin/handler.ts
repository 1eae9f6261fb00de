// The admin function (CONTRACT.md "Admin routes"): admin role only, others 403, anonymous 401. Each area
// brings its own route list; adding one is one import and one line in `routes` below.
import { createUserGuard, type UserGuard } from "../_shared/auth/guard.ts";
import { type FunctionDeps, functionDepsFromEnv, lazyHandler } from "../_shared/http/function_deps.ts";
import { createApp, type Route } from "../_shared/http/app.ts";
import {
  type DocumentStorage,
  linkTtlSecondsFromEnv,
} from "../_shared/infra/document_storage/document_storage.ts";
import { documentStorageFromEnv } from "../_shared/infra/document_storage/from_env.ts";
import { uploadLimitsFromEnv } from "../kyc/upload_limits.ts";
import { accountControlRoutes } from "./account_controls_routes.ts";
import { exportRoutes } from "./exports_routes.ts";
import { kycRoutes } from "./kyc_routes.ts";
import { opsRoutes } from "./ops_routes.ts";
import { packageRoutes } from "./packages_routes.ts";
import { userRoutes } from "./users_routes.ts";
import { withdrawalRoutes } from "./withdrawals_routes.ts";

export type AdminDeps = FunctionDeps & {
  /** KYC document links. */
  storage: () => Promise<DocumentStorage>;
  linkTtlSeconds: number;
};

/** What every route module receives: the dependencies plus the one guard (rate limiters) they share. */
export type AdminRouteDeps = AdminDeps & { guard: UserGuard; now: () => Date };

export function createAdminHandler(deps: AdminDeps) {
  const now = deps.now ?? (() => new Date());
  const routeDeps: AdminRouteDeps = { ...deps, now, guard: createUserGuard({ ...deps, now }) };
  const routes: Route[] = [
    ...kycRoutes(routeDeps),
    ...packageRoutes(routeDeps),
    ...withdrawalRoutes(routeDeps),
    ...userRoutes(routeDeps),
    ...accountControlRoutes(routeDeps),
    ...exportRoutes(routeDeps),
    ...opsRoutes(routeDeps),
  ];
  return createApp({ functionName: "admin", routes });
}

let storage: Promise<DocumentStorage> | undefined;

export const handler = lazyHandler(() =>
  createAdminHandler({
    ...functionDepsFromEnv(),
    storage: () => (storage ??= documentStorageFromEnv(uploadLimitsFromEnv().fileSizeBytesMax)),
    linkTtlSeconds: linkTtlSecondsFromEnv(),
  })
);
