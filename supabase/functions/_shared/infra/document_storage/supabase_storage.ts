// Document storage in Supabase Storage (production), through its REST API with fetch: a private bucket,
// objects uploaded with the service role key (which bypasses Storage's RLS), links from
// `POST /object/sign/<bucket>/<key>` that Storage itself checks and expires.
import type { DocumentContentType } from "../../domain/kyc/document_type.ts";
import {
  assertDocumentKey,
  assertLinkTtl,
  DOCUMENT_BUCKET,
  type DocumentLink,
  type DocumentStorage,
  DocumentStorageError,
} from "./document_storage.ts";

export type SupabaseStorageOptions = {
  /** SUPABASE_URL, e.g. https://<project>.supabase.co */
  url: string;
  /** SUPABASE_SERVICE_ROLE_KEY: never sent to clients. */
  serviceRoleKey: string;
  bucket?: string;
  /** The bucket's own size limit, so Storage refuses oversized files even if a caller forgot to. */
  fileSizeBytesMax: number;
  fetch?: typeof fetch;
  now?: () => Date;
  timeoutMs?: number;
};

const ALLOWED_MIME_TYPES = ["image/jpeg", "image/png", "application/pdf"];

export class SupabaseStorage implements DocumentStorage {
  readonly kind = "supabase";
  private readonly base: string;
  private readonly bucket: string;
  private readonly fetch: typeof fetch;
  private readonly now: () => Date;
  private bucketReady: Promise<void> | undefined;

  constructor(private readonly options: SupabaseStorageOptions) {
    this.base = `${options.url.replace(/\/+$/, "")}/storage/v1`;
    this.bucket = options.bucket ?? DOCUMENT_BUCKET;
    this.fetch = options.fetch ?? fetch;
    this.now = options.now ?? (() => new Date());
  }

  async put(key: string, bytes: Uint8Array, contentType: DocumentContentType): Promise<void> {
    assertDocumentKey(key);
    const upload = () =>
      this.call("POST", `/object/${this.bucket}/${encodeKey(key)}`, bytes as Uint8Array<ArrayBuffer>, {
        "content-type": contentType,
        "x-upsert": "false",
        "cache-control": "no-store",
      });
    let response = await upload();
    // A new project has no bucket yet: create it (private) once, then retry.
    if (!response.ok && (await bucketMissing(response))) {
      await this.ensureBucket();
      response = await upload();
    }
    await expectOk(response, "upload");
  }

  async remove(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    keys.forEach(assertDocumentKey);
    const response = await this.call("DELETE", `/object/${this.bucket}`, JSON.stringify({ prefixes: keys }), {
      "content-type": "application/json",
    });
    await expectOk(response, "remove");
  }

  async link(key: string, ttlSeconds: number): Promise<DocumentLink> {
    assertDocumentKey(key);
    assertLinkTtl(ttlSeconds);
    const issuedAt = this.now();
    const response = await this.call(
      "POST",
      `/object/sign/${this.bucket}/${encodeKey(key)}`,
      JSON.stringify({ expiresIn: ttlSeconds }),
      { "content-type": "application/json" },
    );
    if (!response.ok) await expectOk(response, "sign");
    const body = await response.json().catch(() => null) as { signedURL?: unknown } | null;
    if (typeof body?.signedURL !== "string" || !body.signedURL.startsWith("/")) {
      throw new DocumentStorageError("sign: Storage answered without a signedURL");
    }
    return {
      url: `${this.base}${body.signedURL}`,
      expiresAt: new Date(issuedAt.getTime() + ttlSeconds * 1000).toISOString(),
    };
  }

  private ensureBucket(): Promise<void> {
    this.bucketReady ??= (async () => {
      const response = await this.call(
        "POST",
        "/bucket",
        JSON.stringify({
          id: this.bucket,
          name: this.bucket,
          public: false,
          file_size_limit: this.options.fileSizeBytesMax,
          allowed_mime_types: ALLOWED_MIME_TYPES,
        }),
        { "content-type": "application/json" },
      );
      // Someone else created it in the meantime: fine.
      if (
        response.status === 409 || (!response.ok && /already exists/i.test(await response.clone().text()))
      ) return;
      await expectOk(response, "create bucket");
    })().catch((error) => {
      this.bucketReady = undefined;
      throw error;
    });
    return this.bucketReady;
  }

  private async call(
    method: string,
    path: string,
    body: BodyInit,
    headers: Record<string, string>,
  ): Promise<Response> {
    try {
      return await this.fetch(`${this.base}${path}`, {
        method,
        body,
        headers: {
          authorization: `Bearer ${this.options.serviceRoleKey}`,
          apikey: this.options.serviceRoleKey,
          ...headers,
        },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new DocumentStorageError(
        `${method} ${path.split("/").slice(0, 3).join("/")}: ${(error as Error).name}`,
      );
    }
  }
}

function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

async function bucketMissing(response: Response): Promise<boolean> {
  if (response.status !== 404 && response.status !== 400) return false;
  return /bucket not found/i.test(await response.clone().text());
}

async function expectOk(response: Response, what: string): Promise<void> {
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  // Storage's error text may name the key; only the status goes into the error.
  await response.body?.cancel();
  throw new DocumentStorageError(`${what}: Storage answered ${response.status}`);
}
