// Finance exports (GET /admin/exports/{kind}.csv): one keyset page of one kind within a UTC window
// [from, to), as CSV text Postgres writes. Each kind pages on (its window column, its unique key) through an
// index with the same order (supabase/migrations/202612020600*_create_*_index.sql), so a page is an index
// range read at any depth.
//
// Postgres writes each page as one text value (money.csv_field quotes and defuses text as csvField in
// _shared/http/csv.ts does; numbers, ids and times need neither), so a page of 1,000 rows is one string
// here instead of 1,000 row objects and 11,000 cells: that garbage is what made a 1,000,000-row export
// grow the function's memory and cost most of its time.
//
// Times are RFC 3339 text with microseconds, so a page's last key compares exactly on the next page, and
// they go in as `::text::timestamptz`: a parameter postgres.js sees typed timestamptz passes through a JS
// Date, which drops the microseconds, so a page would start again inside the previous one.
import type { PendingQuery, Row } from "postgres";
import type { CsvTextPage } from "../http/csv.ts";
import type { Sql } from "./db.ts";

import { EXPORT_KINDS } from "../contract/requests.ts";
export { EXPORT_KINDS };
export type ExportKind = typeof EXPORT_KINDS[number];
/** The window column's value (RFC 3339 text) and the rest of the unique key, of a page's last row. */
export type ExportKey = (string | number)[];

type KindSpec = {
  columns: readonly string[];
  page: (
    sql: Sql,
    from: string,
    to: string,
    after: ExportKey | null,
    limit: number,
  ) => Promise<CsvTextPage<ExportKey>>;
};

/** Lines per text value of a page: a DataRow message below the socket's 64 KiB reads and a string V8
 * allocates in its young generation, so neither postgres.js nor V8 handles large objects per page. */
const CHUNK_ROWS = 100;

/** Wraps a kind's rows query, which returns `n` (row_number in key order), `csv` (the row's CSV line) and
 * the key columns `k0`…, limited to `limit + 1` rows: the extra row only says whether more follow. The
 * answer is the page's lines in text values of CHUNK_ROWS lines, then one row with the last line's key. */
async function csvPage(
  sql: Sql,
  rows: PendingQuery<Row[]>,
  lastKey: PendingQuery<Row[]>,
  limit: number,
): Promise<CsvTextPage<ExportKey>> {
  // .raw(): each value arrives as the bytes of the message postgres.js read (a view, no copy), so a
  // chunk goes to the client as it came, never decoded into a string and encoded again.
  const answer = await sql`
    with page as materialized (${rows})
    select * from (
      select (n - 1) / ${CHUNK_ROWS} as chunk, string_agg(csv, '' order by n) as text, count(*)::int as rows,
             null::boolean as more, null::jsonb as last
      from page where n <= ${limit} group by 1
      union all
      select ${Number.MAX_SAFE_INTEGER}, null, 0, (select count(*) > ${limit} from page),
             (select ${lastKey} from page where n = least(${limit}, (select count(*) from page)))
    ) chunks
    order by chunk`.raw();
  const [, , , more, last] = answer.pop()! as (Uint8Array | null)[];
  const text = (bytes: Uint8Array | null | undefined) => decoder.decode(bytes!);
  return {
    chunks: answer.map((chunk) => chunk[1] as Uint8Array),
    rows: answer.reduce((sum, chunk) => sum + Number(text(chunk[2] as Uint8Array)), 0),
    last: last ? JSON.parse(text(last)) as ExportKey : null,
    more: text(more) === "t",
  };
}

const decoder = new TextDecoder();

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
    page: (sql, from, to, after, limit) =>
      csvPage(
        sql,
        sql`
        select row_number() over (order by created_at, purchase_id) as n,
               concat(purchase_id, ',', user_id, ',', package_id, ',', money.csv_field(status), ',', amount_minor, ',',
                      refunded_minor, ',', disputed_minor, ',', money.csv_field(currency), ',',
                      money.csv_field(payment_intent_id), ',', money.csv_time(created_at), ',', money.csv_time(paid_at),
                      E'\r\n') as csv,
               created_at as k0, purchase_id as k1
        from public.purchases
        where created_at >= ${from}::text::timestamptz and created_at < ${to}::text::timestamptz
          ${
          after
            ? sql`and (created_at, purchase_id) > (${after[0]!}::text::timestamptz, ${after[1]!}::uuid)`
            : sql``
        }
        order by created_at, purchase_id
        limit ${limit + 1}`,
        sql`jsonb_build_array(money.rfc3339(k0), k1)`,
        limit,
      ),
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
    page: (sql, from, to, after, limit) =>
      csvPage(
        sql,
        sql`
        select row_number() over (order by accrued_at, commission_id) as n,
               concat(commission_id, ',', purchase_id, ',', beneficiary_id, ',', level, ',', vip_level, ',', rate_bps, ',',
                      amount_minor, ',', reversed_minor, ',', money.csv_field(currency), ',', money.csv_field(reason), ',',
                      money.csv_field(status), ',', money.csv_time(accrued_at), ',', money.csv_time(releases_at),
                      E'\r\n') as csv,
               accrued_at as k0, commission_id as k1
        from public.commissions
        where accrued_at >= ${from}::text::timestamptz and accrued_at < ${to}::text::timestamptz
          ${
          after
            ? sql`and (accrued_at, commission_id) > (${after[0]!}::text::timestamptz, ${after[1]!}::uuid)`
            : sql``
        }
        order by accrued_at, commission_id
        limit ${limit + 1}`,
        sql`jsonb_build_array(money.rfc3339(k0), k1)`,
        limit,
      ),
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
    page: (sql, from, to, after, limit) =>
      csvPage(
        sql,
        sql`
        select row_number() over (order by requested_at, withdrawal_id) as n,
               concat(withdrawal_id, ',', user_id, ',', amount_minor, ',', money.csv_field(currency), ',',
                      money.csv_field(status), ',', money.csv_time(requested_at), ',', money.csv_time(decided_at), ',',
                      decided_by, ',', money.csv_field(reference), E'\r\n') as csv,
               requested_at as k0, withdrawal_id as k1
        from public.withdrawals
        where requested_at >= ${from}::text::timestamptz and requested_at < ${to}::text::timestamptz
          ${
          after
            ? sql`and (requested_at, withdrawal_id) > (${after[0]!}::text::timestamptz, ${after[1]!}::uuid)`
            : sql``
        }
        order by requested_at, withdrawal_id
        limit ${limit + 1}`,
        sql`jsonb_build_array(money.rfc3339(k0), k1)`,
        limit,
      ),
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
    page: (sql, from, to, after, limit) =>
      csvPage(
        sql,
        sql`
        select row_number() over (order by recorded_at, event_position, line) as n,
               concat(event_position, ',', line, ',', money.csv_time(recorded_at), ',', money.csv_field(event_type), ',',
                      money.csv_field(account), ',', user_id, ',', reference_id, ',', amount_minor, ',',
                      money.csv_field(currency), ',', balance_before_minor, ',', balance_after_minor, E'\r\n') as csv,
               recorded_at as k0, event_position as k1, line as k2
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
        sql`jsonb_build_array(money.rfc3339(k0), k1, k2)`,
        limit,
      ),
  },
  earnings: {
    columns: ["periodStartsAt", "periodEndsAt", "eventPosition", "contracts", "users", "totalMinor"],
    page: (sql, from, to, after, limit) =>
      csvPage(
        sql,
        sql`
        select row_number() over (order by period_starts_at) as n,
               concat(money.csv_time(period_starts_at), ',', money.csv_time(period_ends_at), ',', event_position, ',',
                      contracts, ',', users, ',', total_minor, E'\r\n') as csv,
               period_starts_at as k0
        from public.earnings_periods
        where period_starts_at >= ${from}::text::timestamptz and period_starts_at < ${to}::text::timestamptz
          ${after ? sql`and period_starts_at > ${after[0]!}::text::timestamptz` : sql``}
        order by period_starts_at
        limit ${limit + 1}`,
        sql`jsonb_build_array(money.rfc3339(k0))`,
        limit,
      ),
  },
};
