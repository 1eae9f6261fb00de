// Refresh tokens are 256 random bits, shown to the client once and stored only as their SHA-256.
// A fast hash is enough here: unlike passwords, the input has full entropy, so nothing can be guessed.
import { Buffer } from "node:buffer";

const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newRefreshToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(TOKEN_BYTES))).toString("base64url");
}

export function isRefreshTokenShape(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

export async function refreshTokenSha256(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return Buffer.from(digest).toString("hex");
}
