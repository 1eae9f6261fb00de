// Where KYC files live: an interface with two real implementations, chosen by configuration.
//   supabase  Supabase Storage, private bucket `kyc-documents` (production; signed URLs from Storage)
//   local     a folder (the local stack; links are HMAC-signed URLs served by the kyc function)
// Keys are `<userId>/<caseId>/<documentId>.<ext>`: no file names a user typed, and everything of one
// user under one prefix, so erasing a person is one prefix.
import { type DocumentContentType } from "../../domain/kyc/document_type.ts";

/** A document link lives at most 30 minutes, whatever the configuration says. */
export const DOCUMENT_LINK_TTL_SECONDS_MAX = 30 * 60;
export const DOCUMENT_LINK_TTL_SECONDS_DEFAULT = 5 * 60;
export const DOCUMENT_BUCKET = "kyc-documents";

export type DocumentLink = { url: string; expiresAt: string };

export interface DocumentStorage {
  readonly kind: "local" | "supabase";
  /** Stores a new object; never overwrites one. */
  put(key: string, bytes: Uint8Array, contentType: DocumentContentType): Promise<void>;
  /** Deletes the objects; keys that do not exist are ignored. */
  remove(keys: string[]): Promise<void>;
  /** A URL that fetches this one object until it expires (ttlSeconds ≤ 30 minutes). */
  link(key: string, ttlSeconds: number): Promise<DocumentLink>;
}

/** Storage refused or could not be reached: the client gets a 503, never a 500. */
export class DocumentStorageError extends Error {
  override name = "DocumentStorageError";
}

const KEY_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Keys are made by us, but a path must never climb out of its folder or bucket whatever goes wrong. */
export function assertDocumentKey(key: string): void {
  const segments = key.split("/");
  if (
    segments.length < 1 || segments.length > 5 ||
    !segments.every((s) => KEY_SEGMENT.test(s) && !s.includes(".."))
  ) {
    throw new Error(`invalid document key ${JSON.stringify(key).slice(0, 120)}`);
  }
}

export function assertLinkTtl(ttlSeconds: number): void {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > DOCUMENT_LINK_TTL_SECONDS_MAX) {
    throw new Error(
      `document link TTL must be 1..${DOCUMENT_LINK_TTL_SECONDS_MAX} seconds, got ${ttlSeconds}`,
    );
  }
}

export function documentKey(userId: string, caseId: string, documentId: string, extension: string): string {
  return `${userId}/${caseId}/${documentId}.${extension}`;
}

export function linkTtlSecondsFromEnv(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): number {
  const raw = env("KYC_DOCUMENT_LINK_TTL_SECONDS");
  const ttl = raw === undefined || raw === "" ? DOCUMENT_LINK_TTL_SECONDS_DEFAULT : Number(raw);
  assertLinkTtl(ttl);
  return ttl;
}
