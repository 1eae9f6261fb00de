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

export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw problems.validation(fieldErrors(result.error));
  return result.data;
}

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.slice(0, 50).map((issue) => ({
    path: issue.path.map(String).join(".") || "(body)",
    message: issue.message,
  }));
}
