// Password hashing with scrypt from node:crypto (runs on a worker thread, off the event loop).
// Parameters: N=2^14, r=8, p=5 — one of OWASP's equivalent scrypt settings (Password Storage Cheat
// Sheet), chosen over N=2^17,r=8,p=1 because it needs 16 MiB per hash instead of 128 MiB, which matters
// when an edge isolate hashes several logins at once. The stored string names its parameters
// (PHC format), so they can be raised later without breaking old hashes.
import { Buffer } from "node:buffer";
import { scrypt, timingSafeEqual } from "node:crypto";

export type ScryptParams = { logN: number; r: number; p: number };
export const SCRYPT_PARAMS: ScryptParams = { logN: 14, r: 8, p: 5 };
const SALT_BYTES = 16;
const KEY_BYTES = 32;
const MAXMEM_BYTES = 256 * 1024 * 1024;
const PHC_PATTERN = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function derive(password: string, salt: Uint8Array, params: ScryptParams, keyBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password,
      salt,
      keyBytes,
      { N: 2 ** params.logN, r: params.r, p: params.p, maxmem: MAXMEM_BYTES },
      (error, key) => {
        if (error) reject(error);
        else resolve(key);
      },
    );
  });
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64").replace(/=+$/, "");

/** `password` must already be normalised (domain/identity/password.ts). */
export async function hashPassword(password: string, params: ScryptParams = SCRYPT_PARAMS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const key = await derive(password, salt, params, KEY_BYTES);
  return `$scrypt$ln=${params.logN},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

/** Constant-time comparison; a malformed stored hash never verifies. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const match = PHC_PATTERN.exec(stored);
  if (!match) return false;
  const params = { logN: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  if (params.logN < 10 || params.logN > 20) return false;
  const salt = Buffer.from(match[4]!, "base64");
  const expected = Buffer.from(match[5]!, "base64");
  if (expected.length < 16) return false;
  const actual = await derive(password, salt, params, expected.length);
  return timingSafeEqual(actual, expected);
}

/** True when a stored hash was made with other parameters than today's (rehash after a login). */
export function needsRehash(stored: string, params: ScryptParams = SCRYPT_PARAMS): boolean {
  return !stored.startsWith(`$scrypt$ln=${params.logN},r=${params.r},p=${params.p}$`);
}

// A login for an unknown email still pays for one hash, so response time does not reveal whether the
// address has an account. Computed once, lazily.
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword("dummy password for unknown accounts");
  return dummyHash;
}
