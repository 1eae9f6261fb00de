// Reading a JSON body: media type (415), size limit (413, counted while streaming, so a lying
// Content-Length does not help), syntax (400 invalid_json), then the zod schema (400 validation_failed).
import type { z } from "zod";
import { type FieldError, problems } from "./problem.ts";

export const JSON_BODY_LIMIT_BYTES = 1024 * 1024;

export async function readBodyBytes(req: Request, limitBytes: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > limitBytes) {
    await req.body?.cancel();
    throw problems.payloadTooLarge(limitBytes);
  }
  if (!req.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.byteLength;
    if (size > limitBytes) throw problems.payloadTooLarge(limitBytes);
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

export function isJsonMediaType(contentType: string | null): boolean {
  const mediaType = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  return mediaType === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
}

export async function readJson<S extends z.ZodType>(
  req: Request,
  schema: S,
  limitBytes = JSON_BODY_LIMIT_BYTES,
): Promise<z.infer<S>> {
  if (!isJsonMediaType(req.headers.get("content-type"))) throw problems.unsupportedMediaType();
  const bytes = await readBodyBytes(req, limitBytes);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw problems.invalidJson();
  }
  return parseInput(schema, value);
}

/** Where the checked value came from: errors name body fields as paths and query parameters by name. */
export type InputSource = "body" | "query";

export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  source: InputSource = "body",
): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw problems.validation(fieldErrors(result.error, source));
  return result.data;
}

export function fieldErrors(error: z.ZodError, source: InputSource = "body"): FieldError[] {
  return error.issues.flatMap((issue): FieldError[] => {
    const path = issue.path.map(String).join(".");
    // An unknown query parameter is named; in a body the object holding it is the path (as before).
    if (source === "query" && issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        path: path ? `${path}.${key}` : key,
        message: "Unknown parameter.",
      }));
    }
    return [{ path: path || `(${source})`, message: issue.message }];
  }).slice(0, 50);
}

/** The query string as an object for a strict schema: `only` lists the parameters it checks (the rest are
 * left to another parser), or every parameter when omitted. A repeated parameter counts once (the first). */
export function queryParams(url: URL, only?: string[]): Record<string, string> {
  const names = new Set(
    [...url.searchParams.keys()].filter((name) => only === undefined || only.includes(name)),
  );
  // fromEntries makes own properties even of names like __proto__, so a strict schema sees every one.
  return Object.fromEntries([...names].map((name) => [name, url.searchParams.get(name)!]));
}
