// The purchases function (CONTRACT.md):
//   POST /purchases {packageId}   → 201 {purchaseId, status: "pending", checkoutUrl, stripeSessionId}
//   GET  /purchases?limit=&cursor= → my purchases, newest first, {items, nextCursor}
// POST creates a Stripe Checkout Session first (Stripe's idempotency key = the purchase id), then
// records CheckoutStarted; money moves only when the signed webhook says it was paid. An unknown or
// retired package is 422 invalid_state: the route exists, the body names something that cannot be
// bought. Idempotency-Key (optional) as in _shared/http/idempotency.ts. Both routes are user routes:
// per-IP and per-user limits, failing open (see _shared/auth/guard.ts).
import { z } from "zod";
import { createUserGuard, userRoute } from "../_shared/auth/guard.ts";
import { type FunctionDeps, functionDepsFromEnv, lazyHandler } from "../_shared/http/function_deps.ts";
import { createApp, json } from "../_shared/http/app.ts";
import { readJson } from "../_shared/http/body.ts";
import {
  IDEMPOTENCY_DEFAULTS,
  type IdempotencyOptions,
  idempotent,
  readIdempotencyKey,
} from "../_shared/http/idempotency.ts";
import { readPage, toPage } from "../_shared/http/pagination.ts";
import { problems } from "../_shared/http/problem.ts";
import { AccountFrozenError, isFrozen } from "../_shared/infra/account_control_store.ts";
import { findActivePackage, UnknownPackageError } from "../_shared/infra/catalog_store.ts";
import {
  findPurchase,
  listPurchases,
  PurchaseExistsError,
  startCheckout,
} from "../_shared/infra/purchase_store.ts";
import {
  type CheckoutUrls,
  checkoutUrlsFromEnv,
  createCheckoutSession,
  PaymentProviderUnavailableError,
  type Stripe,
  stripe,
} from "../_shared/infra/stripe.ts";
import { purchaseBody } from "../_shared/contract/requests.ts";

/** {"packageId": "<uuid>"} is about 50 bytes; 16 KiB leaves room for junk to reach validation. */
export const PURCHASE_BODY_LIMIT_BYTES = 16 * 1024;

const purchaseKey = z.tuple([z.iso.datetime({ offset: true }), z.uuid()]);

export type PurchasesDeps = FunctionDeps & {
  stripe: () => Stripe;
  checkoutUrls: CheckoutUrls;
  idempotency?: IdempotencyOptions;
};

const notForSale = () =>
  problems.unprocessable("invalid_state", "This package does not exist or is no longer sold.");

export function createPurchasesHandler(deps: PurchasesDeps) {
  const now = deps.now ?? (() => new Date());
  const guard = createUserGuard({ ...deps, now });

  /** Checkout Session, then CheckoutStarted, under the purchase id the idempotency layer hands out. */
  async function startPurchase(userId: string, packageId: string, purchaseId: string, requestId: string) {
    const sql = deps.sql();
    // Checked again by money.start_checkout; asked first so a frozen account opens no Stripe session.
    if (await isFrozen(sql, userId)) throw problems.accountFrozen();
    const pkg = await findActivePackage(sql, packageId);
    if (!pkg) throw notForSale();
    let session;
    try {
      session = await createCheckoutSession(deps.stripe(), deps.checkoutUrls, {
        purchaseId,
        packageId,
        packageName: pkg.name,
        priceMinor: pkg.priceMinor,
        currency: pkg.currency,
      });
    } catch (error) {
      if (error instanceof PaymentProviderUnavailableError) {
        throw problems.unavailable("The payment provider is unavailable; retry later.");
      }
      throw error;
    }
    try {
      await startCheckout(sql, {
        purchaseId,
        userId,
        packageId,
        stripeSessionId: session.id,
        metadata: { requestId, actorId: userId },
      });
    } catch (error) {
      // Retired between our read and the append: the session is never paid and expires in 24 hours.
      if (error instanceof UnknownPackageError) throw notForSale();
      // Frozen between our read and the append: the same answer; the session is never paid.
      if (error instanceof AccountFrozenError) throw problems.accountFrozen();
      // The same purchase id again: an Idempotency-Key retry whose first attempt died after recording.
      if (!(error instanceof PurchaseExistsError)) throw error;
      const existing = await findPurchase(sql, userId, purchaseId);
      if (!existing || existing.stripeSessionId !== session.id) throw error;
    }
    return json(
      { purchaseId, status: "pending", checkoutUrl: session.url, stripeSessionId: session.id },
      201,
    );
  }

  return createApp({
    functionName: "purchases",
    routes: [
      {
        method: "POST",
        path: "/",
        handler: userRoute(guard, async (ctx, user) => {
          const key = readIdempotencyKey(ctx.req);
          const body = await readJson(ctx.req, purchaseBody, PURCHASE_BODY_LIMIT_BYTES);
          return await idempotent(
            deps.sql(),
            { userId: user.userId, key, scope: "POST /purchases", input: body, requestId: ctx.requestId },
            (purchaseId) => startPurchase(user.userId, body.packageId, purchaseId, ctx.requestId),
            deps.idempotency ?? IDEMPOTENCY_DEFAULTS,
          );
        }),
      },
      {
        method: "GET",
        path: "/",
        handler: userRoute(guard, async (ctx, user) => {
          const page = readPage(ctx.url, purchaseKey);
          const rows = await listPurchases(deps.sql(), user.userId, page.limit, page.after);
          return json(toPage(rows, page.limit, (p) => [p.createdAt, p.purchaseId]));
        }),
      },
    ],
  });
}

export const handler = lazyHandler(() =>
  createPurchasesHandler({ ...functionDepsFromEnv(), stripe, checkoutUrls: checkoutUrlsFromEnv() })
);
