// Keyset pagination for every list route: `?limit=&cursor=` → `{items, nextCursor}`. The cursor is an
// opaque base64url JSON of the last row's sort key; a tampered or foreign cursor is a 400, never a 500.
import { z } from "zod";
import { parseInput, queryParams } from "./body.ts";
import { problems } from "./problem.ts";

export const PAGE_LIMIT_DEFAULT = 20;
export const PAGE_LIMIT_MAX = 100;

export const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(PAGE_LIMIT_MAX).default(PAGE_LIMIT_DEFAULT),
  cursor: z.string().max(512).optional(),
});

export type Page<K> = { limit: number; after: K | null };

/** Reads limit and cursor (plus any other allowed query parameters, which it ignores). */
export function readPage<K>(url: URL, keySchema: z.ZodType<K>, otherParams: string[] = []): Page<K> {
  const names = [...url.searchParams.keys()].filter((name) => !otherParams.includes(name));
  const { limit, cursor } = parseInput(pageQuery, queryParams(url, names), "query");
  if (cursor === undefined || cursor === "") return { limit, after: null };
  let decoded: unknown;
  try {
    const base64 = cursor.replaceAll("-", "+").replaceAll("_", "/");
    decoded = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))),
    );
  } catch {
    throw problems.validation([{ path: "cursor", message: "Not a cursor from this list." }]);
  }
  const key = keySchema.safeParse(decoded);
  if (!key.success) throw problems.validation([{ path: "cursor", message: "Not a cursor from this list." }]);
  return { limit, after: key.data };
}

export function encodeCursor(key: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(key));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Queries fetch limit + 1 rows; the extra one only says whether another page exists. */
export function toPage<T, K>(
  rows: T[],
  limit: number,
  keyOf: (row: T) => K,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? encodeCursor(keyOf(items.at(-1)!)) : null };
}
