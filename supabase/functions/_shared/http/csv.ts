// Streamed CSV for admin exports (/admin/users.csv, /admin/exports/*.csv): keyset pages pulled one at a
// time as the client reads, so memory holds one page whatever the export's size.
import { logError } from "./app.ts";

/** A CSV's status and headers are sent before its rows, so a failure later can only cut the body short.
 * A complete export therefore ends with one trailer row, padded to the column count: `#end,<rows>` when
 * every matching row was sent, `#limit,<rows>` when the row cap stopped it. No trailer: truncated. */
export const CSV_TRAILER = { complete: "#end", capped: "#limit" } as const;

/** RFC 4180 quoting, and a leading quote for text a spreadsheet would run as a formula. A number is
 * written as it is: a spreadsheet reads `-800` as a number, and finance must be able to sum the column. */
export function csvField(value: unknown): string {
  if (typeof value === "number") return String(value);
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export type CsvExport<Row, Key> = {
  functionName: string;
  requestId: string;
  /** For the log line of a failure after the 200. */
  route: string;
  filename: string;
  columns: readonly string[];
  /** One keyset page after `after` (null: the first), asking for `limit + 1` rows: the extra row only
   * says whether more follow. */
  page: (after: Key | null, limit: number) => Promise<Row[]>;
  keyOf: (row: Row) => Key;
  cells: (row: Row) => unknown[];
  pageRows: number;
  /** Row cap (`#limit` trailer); Infinity for none. */
  rowsMax: number;
};

/** Runs the first page's query before answering, so its errors become problems like anywhere else; the
 * rest streams. A failure after the 200 is logged with the request id and cuts the body (no trailer). */
export async function csvResponse<Row, Key>(spec: CsvExport<Row, Key>): Promise<Response> {
  const { pageRows, rowsMax } = spec;
  let prefetched: Row[] | null = await spec.page(null, pageRows);
  let after: Key | null = null;
  let sent = 0;
  const encoder = new TextEncoder();
  const line = (fields: unknown[]) => fields.map(csvField).join(",") + "\r\n";
  const trailer = (mark: string) =>
    line([mark, sent, ...Array<string>(Math.max(0, spec.columns.length - 2)).fill("")]);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(spec.columns.join(",") + "\r\n"));
    },
    async pull(controller) {
      try {
        const rows = prefetched ?? await spec.page(after, pageRows);
        prefetched = null;
        const page = rows.slice(0, Math.min(pageRows, rowsMax - sent));
        let text = page.map((row) => line(spec.cells(row))).join("");
        sent += page.length;
        if (page.length > 0) after = spec.keyOf(page.at(-1)!);
        const more = rows.length > page.length;
        const done = !more || sent >= rowsMax;
        if (done) text += trailer(more ? CSV_TRAILER.capped : CSV_TRAILER.complete);
        controller.enqueue(encoder.encode(text));
        if (done) controller.close();
      } catch (error) {
        logError(spec.functionName, spec.requestId, error, {
          route: spec.route,
          phase: "stream",
          rowsSent: sent,
        });
        controller.error(error);
      }
    },
  });
  return new Response(body, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${spec.filename}"`,
    },
  });
}
