// Finance exports (GET /admin/exports/{kind}.csv): one keyset page of one kind within a UTC window
// [from, to). Each kind pages on (its window column, its unique key) through an index with the same order
// (supabase/migrations/202612020600*_create_*_index.sql), so a page is an index range read at any depth.
// Times are RFC 3339 text with microseconds, so a page's last key compares exactly on the next page, and
// they go in as `::text::timestamptz`: a parameter postgres.js sees typed timestamptz passes through a JS
// Date, which drops the microseconds, so a page would start again inside the previous one.
import type { Sql } from "./db.ts";

import { EXPORT_KINDS } from "../contract/requests.ts";
export { EXPORT_KINDS };
export type ExportKind = typeof EXPORT_KINDS[number];
export type ExportRow = Record<string, string | number | null>;
/** The window column's value and the rest of the unique key, from a page's last row. */
export type ExportKey = (string | number)[];

type KindSpec = {
  columns: readonly string[];
  keyOf: (row: ExportRow) => ExportKey;
  page: (sql: Sql, from: string, to: string, after: ExportKey | null, limit: number) => Promise<ExportRow[]>;
};

export const EXPORTS: Record<ExportKind, KindSpec> = {
  purchases: {
    columns: [
      "purchaseId",
      "userId",
      "packageId",
      "status",
      "amountMinor",
      "refundedMinor",
      "disputedMinor",
      "currency",
      "paymentIntentId",
      "createdAt",
      "paidAt",
    ],
    keyOf: (r) => [r.createdAt as string, r.purchaseId as string],
    page: (sql, from, to, after, limit) =>
      sql<ExportRow[]>`
        select purchase_id as "purchaseId", user_id as "userId", package_id as "packageId", status,
               amount_minor as "amountMinor", refunded_minor as "refundedMinor",
               disputed_minor as "disputedMinor", currency, payment_intent_id as "paymentIntentId",
               money.rfc3339(created_at) as "createdAt", money.rfc3339(paid_at) as "paidAt"
        from public.purchases
        where created_at >= ${from}::text::timestamptz and created_at < ${to}::text::timestamptz
          ${
        after
          ? sql`and (created_at, purchase_id) > (${after[0]!}::text::timestamptz, ${after[1]!}::uuid)`
          : sql``
      }
        order by created_at, purchase_id
        limit ${limit + 1}`,
  },
  commissions: {
    columns: [
      "commissionId",
      "purchaseId",
      "beneficiaryId",
      "level",
      "vipLevel",
      "rateBps",
      "amountMinor",
      "reversedMinor",
      "currency",
      "reason",
      "status",
      "accruedAt",
      "releasesAt",
    ],
    keyOf: (r) => [r.accruedAt as string, r.commissionId as string],
    page: (sql, from, to, after, limit) =>
      sql<ExportRow[]>`
        select commission_id as "commissionId", purchase_id as "purchaseId", beneficiary_id as "beneficiaryId",
               level, vip_level as "vipLevel", rate_bps as "rateBps", amount_minor as "amountMinor",
               reversed_minor as "reversedMinor", currency, reason, status,
               money.rfc3339(accrued_at) as "accruedAt", money.rfc3339(releases_at) as "releasesAt"
        from public.commissions
        where accrued_at >= ${from}::text::timestamptz and accrued_at < ${to}::text::timestamptz
          ${
        after
          ? sql`and (accrued_at, commission_id) > (${after[0]!}::text::timestamptz, ${after[1]!}::uuid)`
          : sql``
      }
        order by accrued_at, commission_id
        limit ${limit + 1}`,
  },
  withdrawals: {
    columns: [
      "withdrawalId",
      "userId",
      "amountMinor",
      "currency",
      "status",
      "requestedAt",
      "decidedAt",
      "decidedBy",
      "reference",
    ],
    keyOf: (r) => [r.requestedAt as string, r.withdrawalId as string],
    page: (sql, from, to, after, limit) =>
      sql<ExportRow[]>`
        select withdrawal_id as "withdrawalId", user_id as "userId", amount_minor as "amountMinor", currency,
               status, money.rfc3339(requested_at) as "requestedAt", money.rfc3339(decided_at) as "decidedAt",
               decided_by as "decidedBy", reference
        from public.withdrawals
        where requested_at >= ${from}::text::timestamptz and requested_at < ${to}::text::timestamptz
          ${
        after
          ? sql`and (requested_at, withdrawal_id) > (${after[0]!}::text::timestamptz, ${after[1]!}::uuid)`
          : sql``
      }
        order by requested_at, withdrawal_id
        limit ${limit + 1}`,
  },
  ledger: {
    columns: [
      "eventPosition",
      "line",
      "recordedAt",
      "eventType",
      "account",
      "userId",
      "referenceId",
      "amountMinor",
      "currency",
      "balanceBeforeMinor",
      "balanceAfterMinor",
    ],
    keyOf: (r) => [r.recordedAt as string, r.eventPosition as number, r.line as number],
    page: (sql, from, to, after, limit) =>
      sql<ExportRow[]>`
        select event_position as "eventPosition", line, money.rfc3339(recorded_at) as "recordedAt",
               event_type as "eventType", account, user_id as "userId", reference_id as "referenceId",
               amount_minor as "amountMinor", currency, balance_before_minor as "balanceBeforeMinor",
               balance_after_minor as "balanceAfterMinor"
        from public.ledger_entries
        where recorded_at >= ${from}::text::timestamptz and recorded_at < ${to}::text::timestamptz
          ${
        after
          ? sql`and (recorded_at, event_position, line) > (${after[0]!}::text::timestamptz, ${after[
            1
          ]!}::bigint, ${after[2]!}::int)`
          : sql``
      }
        order by recorded_at, event_position, line
        limit ${limit + 1}`,
  },
  earnings: {
    columns: ["periodStartsAt", "periodEndsAt", "eventPosition", "contracts", "users", "totalMinor"],
    keyOf: (r) => [r.periodStartsAt as string],
    page: (sql, from, to, after, limit) =>
      sql<ExportRow[]>`
        select money.rfc3339(period_starts_at) as "periodStartsAt", money.rfc3339(period_ends_at) as "periodEndsAt",
               event_position as "eventPosition", contracts, users, total_minor as "totalMinor"
        from public.earnings_periods
        where period_starts_at >= ${from}::text::timestamptz and period_starts_at < ${to}::text::timestamptz
          ${after ? sql`and period_starts_at > ${after[0]!}::text::timestamptz` : sql``}
        order by period_starts_at
        limit ${limit + 1}`,
  },
};
