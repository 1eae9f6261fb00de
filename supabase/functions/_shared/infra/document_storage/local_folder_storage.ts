// Document storage in a local folder (the local stack). Links are URLs to the kyc function's
// `GET /kyc/documents/<key>?expires=<unix seconds>&signature=<HMAC-SHA256>`: the signature covers the key
// and the expiry, so a link opens one file until it expires and cannot be widened or extended.
import { type DocumentContentType, sniffDocumentType } from "../../domain/kyc/document_type.ts";
import {
  assertDocumentKey,
  assertLinkTtl,
  DOCUMENT_BUCKET,
  DOCUMENT_LINK_TTL_SECONDS_MAX,
  type DocumentLink,
  type DocumentStorage,
} from "./document_storage.ts";

export type LocalFolderStorageOptions = {
  /** The storage root; files go under <root>/kyc-documents/. */
  root: string;
  /** Where the kyc function serves documents, e.g. http://127.0.0.1:54321/functions/v1/kyc/documents */
  linkBaseUrl: string;
  /** The HMAC key for links (KYC_DOCUMENT_LINK_SECRET, or derived from JWT_SECRET). */
  secret: string;
  now?: () => Date;
};

export type OpenedDocument = { bytes: Uint8Array; contentType: DocumentContentType };
export type OpenRefusal = "invalid" | "expired";

const encoder = new TextEncoder();

export class LocalFolderStorage implements DocumentStorage {
  readonly kind = "local";
  readonly folder: string;
  private readonly now: () => Date;
  private key: Promise<CryptoKey> | undefined;

  constructor(private readonly options: LocalFolderStorageOptions) {
    this.folder = `${options.root.replace(/\/+$/, "")}/${DOCUMENT_BUCKET}`;
    this.now = options.now ?? (() => new Date());
  }

  pathOf(key: string): string {
    assertDocumentKey(key);
    return `${this.folder}/${key}`;
  }

  async put(key: string, bytes: Uint8Array, _contentType: DocumentContentType): Promise<void> {
    const path = this.pathOf(key);
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    // createNew: a key is never reused, so an existing file means a bug, not an update. Files are only
    // read through links, which exist once the case is committed, so no reader sees a half-written file.
    try {
      await Deno.writeFile(path, bytes, { createNew: true, mode: 0o600 });
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) await Deno.remove(path).catch(() => {});
      throw error;
    }
  }

  async remove(keys: string[]): Promise<void> {
    const folders = new Set<string>();
    for (const key of keys) {
      const path = this.pathOf(key);
      await Deno.remove(path).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
      const caseFolder = path.slice(0, path.lastIndexOf("/"));
      folders.add(caseFolder).add(caseFolder.slice(0, caseFolder.lastIndexOf("/")));
    }
    // Empty case and user folders go too (non-recursive remove fails on a folder that still has files).
    for (const folder of [...folders].sort((a, b) => b.length - a.length)) {
      if (folder.startsWith(this.folder + "/")) await Deno.remove(folder).catch(() => {});
    }
  }

  async link(key: string, ttlSeconds: number): Promise<DocumentLink> {
    assertDocumentKey(key);
    assertLinkTtl(ttlSeconds);
    const expires = Math.floor(this.now().getTime() / 1000) + ttlSeconds;
    const signature = await this.sign(key, expires);
    const path = key.split("/").map(encodeURIComponent).join("/");
    return {
      url: `${
        this.options.linkBaseUrl.replace(/\/+$/, "")
      }/${path}?expires=${expires}&signature=${signature}`,
      expiresAt: new Date(expires * 1000).toISOString(),
    };
  }

  /** Checks a link's signature and expiry, then reads the file. */
  async open(
    key: string,
    expiresRaw: string | null,
    signature: string | null,
  ): Promise<OpenedDocument | OpenRefusal> {
    if (
      !expiresRaw || !/^\d{1,12}$/.test(expiresRaw) || !signature || !/^[A-Za-z0-9_-]{43}$/.test(signature)
    ) {
      return "invalid";
    }
    try {
      assertDocumentKey(key);
    } catch {
      return "invalid";
    }
    const expires = Number(expiresRaw);
    // crypto.subtle.verify compares in constant time.
    const valid = await crypto.subtle.verify(
      "HMAC",
      await this.signingKey(),
      base64UrlDecode(signature),
      encoder.encode(`${key}\n${expires}`),
    );
    if (!valid) return "invalid";
    const nowSeconds = this.now().getTime() / 1000;
    // The second check only matters if the secret leaked into something that signs longer links.
    if (nowSeconds >= expires || expires - nowSeconds > DOCUMENT_LINK_TTL_SECONDS_MAX) return "expired";
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(this.pathOf(key));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return "invalid";
      throw error;
    }
    const contentType = sniffDocumentType(bytes);
    if (!contentType) return "invalid";
    return { bytes, contentType };
  }

  private async sign(key: string, expires: number): Promise<string> {
    const mac = await crypto.subtle.sign(
      "HMAC",
      await this.signingKey(),
      encoder.encode(`${key}\n${expires}`),
    );
    return base64UrlEncode(new Uint8Array(mac));
  }

  private signingKey(): Promise<CryptoKey> {
    this.key ??= crypto.subtle.importKey(
      "raw",
      encoder.encode(this.options.secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    return this.key;
  }
}

/** A secret of its own for links, or one derived from JWT_SECRET (so the local stack needs no new setting). */
export async function linkSecretFromEnv(env: (name: string) => string | undefined): Promise<string> {
  const own = env("KYC_DOCUMENT_LINK_SECRET");
  if (own) return own;
  const jwtSecret = env("JWT_SECRET") ?? env("SUPABASE_JWT_SECRET");
  if (!jwtSecret) throw new Error("Set KYC_DOCUMENT_LINK_SECRET or JWT_SECRET.");
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(jwtSecret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
    ],
  );
  // Derived, not reused: a document link signature can never double as a token signature.
  const derived = await crypto.subtle.sign("HMAC", key, encoder.encode("accrue:kyc-document-links:v1"));
  return base64UrlEncode(new Uint8Array(derived));
}

/** <repo>/.local/storage, found from this file's place in the repository (supabase/functions/_shared/infra/…). */
export function defaultStorageRoot(): string {
  return decodeURIComponent(new URL("../../../../../.local/storage", import.meta.url).pathname);
}

function base64UrlEncode(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function base64UrlDecode(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
