// Builds the kyc and admin handlers against the real local Postgres, with document storage in a
// temporary folder and an injectable clock, plus users, tokens and multipart bodies for the tests.
import { signAccessToken } from "../_shared/auth/jwt.ts";
import type { Sql } from "../_shared/infra/db.ts";
import { LocalFolderStorage } from "../_shared/infra/document_storage/local_folder_storage.ts";
import { redis } from "../_shared/infra/redis.ts";
import { createAdminHandler } from "../admin/handler.ts";
import { rateLimits, TEST_TOKENS, uniqueEmail } from "../auth/handler_test_support.ts";
import { createKycHandler } from "./handler.ts";
import type { KycUploadLimits } from "./upload_limits.ts";

export const PNG = new Uint8Array([
  0x89,
  0x50,
  0x4e,
  0x47,
  0x0d,
  0x0a,
  0x1a,
  0x0a,
  0,
  0,
  0,
  13,
  73,
  72,
  68,
  82,
]);
export const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70, 0]);
export const PDF = new TextEncoder().encode("%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n");
export const TEST_LIMITS: KycUploadLimits = {
  fileSizeBytesMax: 64 * 1024,
  filesMax: 3,
  memoryBytesMax: 4 * 1024 * 1024,
  queuedMax: 16,
  queueWaitMs: 10_000,
};

export type Clock = { now: () => Date; advance(seconds: number): void };

export function clock(start = new Date()): Clock {
  let now = start;
  return { now: () => now, advance: (seconds) => (now = new Date(now.getTime() + seconds * 1000)) };
}

export async function kycStack(
  sql: Sql,
  options: { clock?: Clock; linkTtlSeconds?: number; limits?: KycUploadLimits } = {},
) {
  const root = await Deno.makeTempDir({ prefix: "kyc-test-storage-" });
  const time = options.clock ?? clock();
  const storage = new LocalFolderStorage({
    root,
    linkBaseUrl: "http://localhost/kyc/documents",
    secret: "kyc-test-link-secret",
    now: time.now,
  });
  const common = {
    sql: () => sql,
    redis,
    tokens: TEST_TOKENS,
    rateLimits: rateLimits({ enabled: false }),
    ip: { header: "x-forwarded-for", hop: "first" as const },
    storage: () => Promise.resolve(storage),
    now: time.now,
  };
  return {
    storage,
    clock: time,
    kyc: createKycHandler({ ...common, limits: options.limits ?? TEST_LIMITS }),
    admin: createAdminHandler({ ...common, linkTtlSeconds: options.linkTtlSeconds ?? 300 }),
    /** Files stored for one user (recursively), the check behind "nothing stored". */
    async filesOf(userId: string): Promise<string[]> {
      const found: string[] = [];
      const walk = async (dir: string) => {
        try {
          for await (const entry of Deno.readDir(dir)) {
            if (entry.isDirectory) await walk(`${dir}/${entry.name}`);
            else found.push(`${dir}/${entry.name}`);
          }
        } catch (error) {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        }
      };
      await walk(`${storage.folder}/${userId}`);
      return found;
    },
    cleanup: () => Deno.remove(root, { recursive: true }),
  };
}

export type TestUser = { id: string; email: string; token: string };

/** A registered user (the signup command, without the KDF), optionally an admin, with an access token. */
export async function newUser(sql: Sql, options: { admin?: boolean } = {}): Promise<TestUser> {
  const id = crypto.randomUUID();
  const email = uniqueEmail(options.admin ? "kyc-admin" : "kyc-user");
  const code = Array.from(
    crypto.getRandomValues(new Uint8Array(8)),
    (b) => "23456789ABCDEFGHJKMNPQRSTVWXYZ"[b % 30],
  ).join("");
  const token = Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0"))
    .join("");
  await sql`select private.register_user(${id}, ${email}, '$scrypt$test', ${code}, null, ${crypto.randomUUID()}, ${token}, 60)`;
  if (options.admin) await sql`select private.promote_to_admin(${email})`;
  const accessToken = await signAccessToken(
    { userId: id, role: options.admin ? "admin" : "user", sessionId: crypto.randomUUID() },
    TEST_TOKENS,
    new Date(),
  );
  return { id, email, token: accessToken };
}

export type FormPart = [
  name: string,
  value: string | { bytes: Uint8Array; filename?: string; type?: string },
];

export const APPLICANT: FormPart[] = [["fullName", "Ann Lee"], ["dateOfBirth", "1990-05-17"], [
  "country",
  "DE",
]];

export function form(parts: FormPart[]): FormData {
  const data = new FormData();
  for (const [name, value] of parts) {
    if (typeof value === "string") data.append(name, value);
    else {
      data.append(
        name,
        new Blob([value.bytes as Uint8Array<ArrayBuffer>], {
          type: value.type ?? "application/octet-stream",
        }),
        value.filename ?? "upload.bin",
      );
    }
  }
  return data;
}

export const doc = (
  bytes: Uint8Array,
  filename = "passport.png",
): FormPart => ["document", { bytes, filename }];

type Handler = (req: Request) => Promise<Response>;

export async function call(
  handler: Handler,
  path: string,
  init: {
    method?: string;
    token?: string;
    body?: BodyInit;
    json?: unknown;
    headers?: Record<string, string>;
  } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers["content-type"] = "application/json";
  }
  const res = await handler(
    new Request(`http://localhost${path}`, {
      method: init.method ?? (body ? "POST" : "GET"),
      headers,
      ...(body ? { body } : {}),
    }),
  );
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  // deno-lint-ignore no-explicit-any
  return { status: res.status, headers: res.headers, body: parsed as any };
}

export function submit(
  kyc: Handler,
  user: TestUser,
  parts: FormPart[],
  headers: Record<string, string> = {},
) {
  return call(kyc, "/kyc", { method: "POST", token: user.token, body: form(parts), headers });
}
