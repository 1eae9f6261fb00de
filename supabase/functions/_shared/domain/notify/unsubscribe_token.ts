// The login-free one-click unsubscribe link (RFC 8058): a token naming the user and the optional mail
// to turn off, signed with HMAC-SHA256. It does not expire (an unsubscribe link must keep working in an
// old mail) and it can do only one thing: turn that one kind of optional mail off for that one user.

const encoder = new TextEncoder();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PREFERENCE = /^[a-z][a-z_]{1,49}$/;

export type UnsubscribeClaim = { userId: string; preference: string };

async function hmac(secret: string, message: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
    ],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

function base64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export async function signUnsubscribeToken(secret: string, claim: UnsubscribeClaim): Promise<string> {
  const body = `${claim.userId}.${claim.preference}`;
  return `u1.${body}.${base64Url(await hmac(secret, `accrue:unsubscribe:u1:${body}`))}`;
}

/** The claim of a valid token, or null for anything tampered, foreign or malformed. */
export async function verifyUnsubscribeToken(
  secret: string,
  token: string,
): Promise<UnsubscribeClaim | null> {
  const parts = token.split(".");
  if (parts.length !== 4 || parts[0] !== "u1") return null;
  const [, userId, preference, signature] = parts as [string, string, string, string];
  if (!UUID.test(userId) || !PREFERENCE.test(preference)) return null;
  const expected = base64Url(await hmac(secret, `accrue:unsubscribe:u1:${userId}.${preference}`));
  // Constant-time comparison of equal-length strings.
  if (expected.length !== signature.length) return null;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ signature.charCodeAt(i);
  return diff === 0 ? { userId, preference } : null;
}

/** A secret of its own (EMAIL_LINK_SECRET), or one derived from JWT_SECRET, never the JWT secret itself. */
export async function emailLinkSecretFromEnv(env: (name: string) => string | undefined): Promise<string> {
  const own = env("EMAIL_LINK_SECRET");
  if (own) return own;
  const jwtSecret = env("JWT_SECRET") ?? env("SUPABASE_JWT_SECRET");
  if (!jwtSecret) throw new Error("Set EMAIL_LINK_SECRET or JWT_SECRET.");
  return base64Url(await hmac(jwtSecret, "accrue:email-links:v1"));
}
