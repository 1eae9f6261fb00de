// Access tokens: HS256 JWTs with the claims Supabase's PostgREST understands (sub, role, aud, exp,
// app_metadata), so the same token works for our functions and for RLS through Supabase's REST API.
// The verifier pins the algorithm (no "none", no RS/ES confusion), the key, audience and issuer, and
// then checks the claim shapes it relies on.
import { errors, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import type { TokenConfig } from "./config.ts";

export type AppRole = "user" | "admin";
export type AccessClaims = { userId: string; role: AppRole; sessionId: string };

export class AccessTokenError extends Error {
  override name = "AccessTokenError";
  constructor(readonly reason: "expired" | "invalid", message: string) {
    super(message);
  }
}

const ALGORITHM = "HS256";

const payloadSchema = z.object({
  sub: z.uuid(),
  role: z.literal("authenticated"),
  app_metadata: z.object({ role: z.enum(["user", "admin"]) }),
  session_id: z.uuid(),
});

// Imported once per secret: handing jose raw bytes makes it import a CryptoKey on every call, which
// was most of a verification's cost.
const keyCache = new Map<string, Promise<CryptoKey>>();
function keyOf(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      [
        "sign",
        "verify",
      ],
    );
    keyCache.set(secret, key);
  }
  return key;
}

export async function signAccessToken(claims: AccessClaims, config: TokenConfig, now: Date): Promise<string> {
  const issuedAtSeconds = Math.floor(now.getTime() / 1000);
  return await new SignJWT({
    role: "authenticated",
    app_metadata: { role: claims.role },
    session_id: claims.sessionId,
    is_anonymous: false,
  })
    .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
    .setSubject(claims.userId)
    .setAudience(config.jwtAudience)
    .setIssuer(config.jwtIssuer)
    .setIssuedAt(issuedAtSeconds)
    .setExpirationTime(issuedAtSeconds + config.accessTokenTtlSeconds)
    .sign(await keyOf(config.jwtSecret));
}

/** Throws AccessTokenError("expired") for a genuine but expired token, ("invalid") for anything else. */
export async function verifyAccessToken(
  token: string,
  config: TokenConfig,
  now: Date,
): Promise<AccessClaims> {
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, await keyOf(config.jwtSecret), {
      algorithms: [ALGORITHM],
      audience: config.jwtAudience,
      issuer: config.jwtIssuer,
      requiredClaims: ["sub", "exp", "iat"],
      currentDate: now,
      typ: "JWT",
    }));
  } catch (error) {
    // jose checks the signature before the claims: "expired" is only said of a token we signed.
    if (error instanceof errors.JWTExpired) throw new AccessTokenError("expired", "token expired");
    throw new AccessTokenError("invalid", error instanceof Error ? error.name : "invalid token");
  }
  const parsed = payloadSchema.safeParse(payload);
  if (!parsed.success) throw new AccessTokenError("invalid", "unexpected claims");
  return { userId: parsed.data.sub, role: parsed.data.app_metadata.role, sessionId: parsed.data.session_id };
}
