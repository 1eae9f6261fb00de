// The purchase and Stripe-event SQL calls (supabase/migrations/20261122060006_create_purchase_commands.sql,
// 20261122060007_create_stripe_events.sql), with their SQLSTATEs turned into typed errors here.
import type { Sql } from "./db.ts";
import type { EventMetadata } from "./event_store.ts";
import { MONEY_SQLSTATE, UnknownPackageError } from "./catalog_store.ts";
import { ACCOUNT_FROZEN_SQLSTATE, AccountFrozenError } from "./account_control_store.ts";

export class PurchaseExistsError extends Error {
  override name = "PurchaseExistsError";
}

const WRONG_EXPECTED_VERSION = "ES409";

export type PurchaseView = {
  purchaseId: string;
  packageId: string;
  amountMinor: number;
  currency: string;
  status: "pending" | "failed" | "paid" | "partially_refunded" | "refunded" | "disputed";
  refundedMinor: number;
  contractId: string | null;
  stripeSessionId: string;
  createdAt: string;
  paidAt: string | null;
};

export type StartCheckout = {
  purchaseId: string;
  userId: string;
  packageId: string;
  stripeSessionId: string;
  metadata: EventMetadata;
};

/** CheckoutStarted. UnknownPackageError when the package is unknown or retired; PurchaseExistsError
 * when this purchase id was started before (an idempotent retry after a crash); AccountFrozenError when
 * the buyer's account is frozen. */
export async function startCheckout(sql: Sql, c: StartCheckout): Promise<void> {
  try {
    await sql`
      select money.start_checkout(${c.purchaseId}::uuid, ${c.userId}::uuid, ${c.packageId}::uuid, ${c.stripeSessionId},
        ${sql.json(c.metadata as never)})`;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === MONEY_SQLSTATE.notFound) throw new UnknownPackageError("unknown or retired package");
    if (code === WRONG_EXPECTED_VERSION) throw new PurchaseExistsError("purchase exists");
    if (code === ACCOUNT_FROZEN_SQLSTATE) throw new AccountFrozenError("account frozen");
    throw error;
  }
}

const purchaseColumns = (sql: Sql) =>
  sql`purchase_id as "purchaseId", package_id as "packageId", amount_minor as "amountMinor", currency, status,
      refunded_minor as "refundedMinor", contract_id as "contractId", stripe_session_id as "stripeSessionId",
      money.rfc3339(created_at) as "createdAt", money.rfc3339(paid_at) as "paidAt"`;

/** One purchase of this user (null for another user's: they are not found, not forbidden). */
export async function findPurchase(
  sql: Sql,
  userId: string,
  purchaseId: string,
): Promise<PurchaseView | null> {
  const [row] = await sql<PurchaseView[]>`
    select ${
    purchaseColumns(sql)
  } from public.purchases where purchase_id = ${purchaseId}::uuid and user_id = ${userId}::uuid`;
  return row ?? null;
}

export type PurchaseKey = [createdAt: string, purchaseId: string];

/** Newest first, keyset on (created_at, purchase_id) (index purchases_user_idx); limit + 1 rows. */
export function listPurchases(
  sql: Sql,
  userId: string,
  limit: number,
  after: PurchaseKey | null,
): Promise<PurchaseView[]> {
  const afterKey = after
    ? sql`and (created_at, purchase_id) < (${after[0]}::text::timestamptz, ${after[1]}::uuid)`
    : sql``;
  return sql<PurchaseView[]>`
    select ${purchaseColumns(sql)}
    from public.purchases
    where user_id = ${userId}::uuid ${afterKey}
    order by created_at desc, purchase_id desc
    limit ${limit + 1}`;
}

export type StripeEventOutcome = { outcome: string; duplicate: boolean };

/** Records the Stripe event id and applies its command in one transaction (once per event id). */
export async function handleStripeEvent(
  sql: Sql,
  eventId: string,
  eventType: string,
  command: Record<string, unknown>,
  metadata: EventMetadata,
): Promise<StripeEventOutcome> {
  const [row] = await sql<{ r: StripeEventOutcome }[]>`
    select money.handle_stripe_event(${eventId}, ${eventType}, ${sql.json(command as never)},
      ${sql.json(metadata as never)}) as r`;
  return row!.r;
}
