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

type CsvMeta = {
  functionName: string;
  requestId: string;
  /** For the log line of a failure after the 200. */
  route: string;
  filename: string;
  columns: readonly string[];
};

export type CsvExport<Row, Key> = CsvMeta & {
  /** One keyset page after `after` (null: the first), asking for `limit + 1` rows: the extra row only
   * says whether more follow. */
  page: (after: Key | null, limit: number) => Promise<Row[]>;
  keyOf: (row: Row) => Key;
  cells: (row: Row) => unknown[];
  pageRows: number;
  /** Row cap (`#limit` trailer); Infinity for none. */
  rowsMax: number;
};

/** One page of CSV lines the database already wrote (each line ending in CRLF, fields as csvField writes
 * them) in one or more pieces, how many lines, the last line's key, and whether more rows follow. */
export type CsvTextPage<Key> = {
  chunks: (string | Uint8Array)[];
  rows: number;
  last: Key | null;
  more: boolean;
};

export type CsvTextExport<Key> = CsvMeta & {
  /** At most `limit` rows after `after` (null: the first). */
  page: (after: Key | null, limit: number) => Promise<CsvTextPage<Key>>;
  pageRows: number;
};

/** A page of rows: the cells of each row written here. Runs the first page's query before answering, so
 * its errors become problems like anywhere else; the rest streams. A failure after the 200 is logged with
 * the request id and cuts the body (no trailer). */
export function csvResponse<Row, Key>(spec: CsvExport<Row, Key>): Promise<Response> {
  const { pageRows, rowsMax } = spec;
  return streamCsv<Key>(spec, async (after, sent) => {
    const rows = await spec.page(after, pageRows);
    const page = rows.slice(0, Math.min(pageRows, rowsMax - sent));
    const more = rows.length > page.length;
    return {
      chunks: [page.map((row) => csvLine(spec.cells(row))).join("")],
      rows: page.length,
      last: page.length > 0 ? spec.keyOf(page.at(-1)!) : null,
      more,
      capped: more && sent + page.length >= rowsMax,
    };
  });
}

/** The same stream, over pages whose CSV text the database wrote (no object per row or cell here), for
 * exports of millions of rows. No row cap: the query bounds the export. */
export function csvTextResponse<Key>(spec: CsvTextExport<Key>): Promise<Response> {
  return streamCsv<Key>(spec, async (after) => ({ ...await spec.page(after, spec.pageRows), capped: false }));
}

const csvLine = (fields: unknown[]) => fields.map(csvField).join(",") + "\r\n";

type CsvChunk<Key> = CsvTextPage<Key> & { capped: boolean };

async function streamCsv<Key>(
  meta: CsvMeta,
  next: (after: Key | null, sent: number) => Promise<CsvChunk<Key>>,
): Promise<Response> {
  let prefetched: CsvChunk<Key> | null = await next(null, 0);
  let after: Key | null = null;
  let sent = 0;
  const encoder = new TextEncoder();
  const trailer = (mark: string) =>
    csvLine([mark, sent, ...Array<string>(Math.max(0, meta.columns.length - 2)).fill("")]);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(meta.columns.join(",") + "\r\n"));
    },
    async pull(controller) {
      try {
        const chunk = prefetched ?? await next(after, sent);
        prefetched = null;
        sent += chunk.rows;
        if (chunk.last !== null) after = chunk.last;
        const done = !chunk.more || chunk.capped;
        // Piece by piece: each encoding is small and short-lived (see CHUNK_ROWS in export_store.ts).
        for (const text of chunk.chunks) {
          controller.enqueue(typeof text === "string" ? encoder.encode(text) : text);
        }
        if (done) {
          controller.enqueue(
            encoder.encode(trailer(chunk.capped ? CSV_TRAILER.capped : CSV_TRAILER.complete)),
          );
          controller.close();
        }
      } catch (error) {
        logError(meta.functionName, meta.requestId, error, {
          route: meta.route,
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
      "Content-Disposition": `attachment; filename="${meta.filename}"`,
    },
  });
}
