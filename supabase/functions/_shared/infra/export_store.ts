// Finance exports (GET /admin/exports/{kind}.csv): one keyset page of one kind within a UTC window
// [from, to), as CSV text Postgres writes. Each kind pages on (its window column, its unique key) through an
// index with the same order (supabase/migrations/202612020600*_create_*_index.sql), so a page is an index
// range read at any depth.
//
// A page is one `COPY (query) TO STDOUT WITH (FORMAT binary)` (copy_binary.ts): Postgres writes each row's
// CSV line (money.csv_field quotes and defuses text as csvField in _shared/http/csv.ts does; numbers, ids
// and times need neither) and the last row's key as a second column, and the lines' bytes are copied
// into 64 KiB pieces as they arrive. No row object, string or cell exists here. A page is read whole
// before it is sent, so a slow client never holds a statement open; pages are short statements, so an
// export of any size stays under the session's statement_timeout and does not hold back a replica.
//
// Times are RFC 3339 text with microseconds, so a page's last key compares exactly on the next page. COPY
// takes no parameters: the window and the keys go into the text as literals (`literal` below), the window
// checked by the route (exportWindowQuery) and the keys the ones Postgres wrote on the page before.
import type { CsvTextPage } from "../http/csv.ts";
import { readCopyBinary } from "./copy_binary.ts";
import type { Sql } from "./db.ts";

import { EXPORT_KINDS } from "../contract/requests.ts";
export { EXPORT_KINDS };
export type ExportKind = typeof EXPORT_KINDS[number];
/** The window column's value (RFC 3339 text) and the rest of the unique key, of a page's last row. */
export type ExportKey = (string | number)[];

type KeyType = "timestamptz" | "uuid" | "bigint" | "int";

type KindSpec = {
  columns: readonly string[];
  table: string;
  /** The window column first (timestamptz), then the rest of the unique key: the page order. */
  key: readonly (readonly [column: string, type: KeyType])[];
  /** The row's CSV fields, joined by commas (the CRLF is added). */
  fields: readonly string[];
};

/** A SQL literal of a key value. Text (times, uuids) is quoted with its quotes doubled; numbers must be
 * safe integers. */
function literal(value: string | number, type: KeyType): string {
  if (type === "bigint" || type === "int") {
    if (!Number.isSafeInteger(value)) throw new Error(`export key: not an integer: ${value}`);
    return `${value}::${type}`;
  }
  return `'${String(value).replaceAll("'", "''")}'::${type}`;
}

/** The page's COPY: the `limit` rows after `after` as (CSV line, null), the last of them carrying its key as
 * JSON instead of null, so the next page starts there; and if more rows follow, one more row (null, null)
 * that says so. */
export function pageCopyText(
  spec: KindSpec,
  from: string,
  to: string,
  after: ExportKey | null,
  limit: number,
): string {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`export page: bad limit ${limit}`);
  const [[time]] = spec.key as [readonly [string, KeyType]];
  const order = spec.key.map(([column]) => column).join(", ");
  const keyJson = spec.key.map(([column, type]) =>
    type === "timestamptz" ? `money.rfc3339(${column})` : column
  );
  const afterKey = after === null
    ? ""
    : `and (${order}) > (${spec.key.map(([, type], i) => literal(after[i]!, type)).join(", ")})`;
  return `copy (
    select case when row_number() over w <= ${limit} then concat(${
    spec.fields.join(", ',', ")
  }, E'\\r\\n') end,
           case when row_number() over w = ${limit} then jsonb_build_array(${keyJson.join(", ")})::text end
    from ${spec.table}
    where ${time} >= ${literal(from, "timestamptz")} and ${time} < ${literal(to, "timestamptz")} ${afterKey}
    window w as (order by ${order})
    order by ${order}
    limit ${limit + 1}
  ) to stdout with (format binary)`;
}

async function page(
  sql: Sql,
  spec: KindSpec,
  from: string,
  to: string,
  after: ExportKey | null,
  limit: number,
): Promise<CsvTextPage<ExportKey>> {
  const copy = await readCopyBinary(await sql.unsafe(pageCopyText(spec, from, to, after, limit)).readable());
  const more = copy.tuples > copy.rows;
  return {
    chunks: copy.pieces,
    rows: copy.rows,
    last: more ? JSON.parse(copy.lastTag!) as ExportKey : null,
    more,
  };
}

const SPECS: Record<ExportKind, KindSpec> = {
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
    table: "public.purchases",
    key: [["created_at", "timestamptz"], ["purchase_id", "uuid"]],
    fields: [
      "purchase_id",
      "user_id",
      "package_id",
      "money.csv_field(status)",
      "amount_minor",
      "refunded_minor",
      "disputed_minor",
      "money.csv_field(currency)",
      "money.csv_field(payment_intent_id)",
      "money.csv_time(created_at)",
      "money.csv_time(paid_at)",
    ],
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
    table: "public.commissions",
    key: [["accrued_at", "timestamptz"], ["commission_id", "uuid"]],
    fields: [
      "commission_id",
      "purchase_id",
      "beneficiary_id",
      "level",
      "vip_level",
      "rate_bps",
      "amount_minor",
      "reversed_minor",
      "money.csv_field(currency)",
      "money.csv_field(reason)",
      "money.csv_field(status)",
      "money.csv_time(accrued_at)",
      "money.csv_time(releases_at)",
    ],
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
    table: "public.withdrawals",
    key: [["requested_at", "timestamptz"], ["withdrawal_id", "uuid"]],
    fields: [
      "withdrawal_id",
      "user_id",
      "amount_minor",
      "money.csv_field(currency)",
      "money.csv_field(status)",
      "money.csv_time(requested_at)",
      "money.csv_time(decided_at)",
      "decided_by",
      "money.csv_field(reference)",
    ],
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
    table: "public.ledger_entries",
    key: [["recorded_at", "timestamptz"], ["event_position", "bigint"], ["line", "int"]],
    fields: [
      "event_position",
      "line",
      "money.csv_time(recorded_at)",
      "money.csv_field(event_type)",
      "money.csv_field(account)",
      "user_id",
      "reference_id",
      "amount_minor",
      "money.csv_field(currency)",
      "balance_before_minor",
      "balance_after_minor",
    ],
  },
  earnings: {
    columns: ["periodStartsAt", "periodEndsAt", "eventPosition", "contracts", "users", "totalMinor"],
    table: "public.earnings_periods",
    key: [["period_starts_at", "timestamptz"]],
    fields: [
      "money.csv_time(period_starts_at)",
      "money.csv_time(period_ends_at)",
      "event_position",
      "contracts",
      "users",
      "total_minor",
    ],
  },
};

/** A kind's columns and its page reader, for the route. */
export type ExportSpec = {
  columns: readonly string[];
  page: (
    sql: Sql,
    from: string,
    to: string,
    after: ExportKey | null,
    limit: number,
  ) => Promise<CsvTextPage<ExportKey>>;
};

export const EXPORTS = Object.fromEntries(EXPORT_KINDS.map((kind): [ExportKind, ExportSpec] => [kind, {
  columns: SPECS[kind].columns,
  page: (sql, from, to, after, limit) => page(sql, SPECS[kind], from, to, after, limit),
}])) as Record<ExportKind, ExportSpec>;
