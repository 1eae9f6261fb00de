// The guard every user route goes through: a Bearer access token we signed, not expired, with a
// user role. Supabase clients send `Authorization: Bearer <anon key>` when signed out; that token
// has role "anon" and no user, so it is refused here like any other non-user token (401).
import type { Context } from "../http/app.ts";
import { problems } from "../http/problem.ts";
import { type TokenConfig, tokenConfigFromEnv } from "./config.ts";
import { type AccessClaims, AccessTokenError, verifyAccessToken } from "./jwt.ts";

export type AuthUser = AccessClaims;

const BEARER_PATTERN = /^Bearer +([A-Za-z0-9_.~+/=-]{1,4096})$/i;

export function bearerToken(req: Request): string | null {
  const header = req.headers.get("authorization");
  if (!header) return null;
  return BEARER_PATTERN.exec(header.trim())?.[1] ?? null;
}

let envConfig: TokenConfig | undefined;

// Tokens this isolate has verified, until they expire. Checking an HS256 signature is a WebCrypto call,
// which Deno runs on another thread: it was the largest single cost of an authenticated request
// (about a fifth of the gateway's CPU under load, README "Benchmarks"). A token's signature and claims
// never change, so a token seen before is known good until its exp; the exact string must match (a
// changed byte is a new, unverified token), the map is per key configuration, and bounded.
type Verified = { user: AuthUser; expSeconds: number };
const VERIFIED_MAX = 10_000;
const verified = new WeakMap<TokenConfig, Map<string, Verified>>();

function verifiedBefore(token: string, config: TokenConfig, now: Date): AuthUser | null {
  const known = verified.get(config)?.get(token);
  if (!known) return null;
  // As jose decides it: expired once now (in whole seconds) reaches exp; then the full check says so.
  if (Math.floor(now.getTime() / 1000) >= known.expSeconds) {
    verified.get(config)?.delete(token);
    return null;
  }
  return known.user;
}

function remember(token: string, config: TokenConfig, user: AuthUser): void {
  const expSeconds = expiryOf(token);
  if (expSeconds === null) return;
  let tokens = verified.get(config);
  if (!tokens) verified.set(config, tokens = new Map());
  // Oldest first out (insertion order), so a flood of distinct tokens cannot grow it.
  if (tokens.size >= VERIFIED_MAX) tokens.delete(tokens.keys().next().value!);
  tokens.set(token, { user, expSeconds });
}

/** exp of a token that just verified (so well-formed); null when it has a not-before, never cached. */
function expiryOf(token: string): number | null {
  try {
    const payload = JSON.parse(atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));
    if (payload.nbf !== undefined || typeof payload.exp !== "number") return null;
    return payload.exp;
  } catch {
    return null;
  }
}

/** Verifies the caller's access token and names the user on the request's log line. */
export async function requireUser(
  ctx: Context,
  config: TokenConfig = envConfig ??= tokenConfigFromEnv(),
  now: Date = new Date(),
): Promise<AuthUser> {
  const token = bearerToken(ctx.req);
  if (!token) throw problems.unauthenticated();
  const known = verifiedBefore(token, config, now);
  if (known) {
    ctx.userId = known.userId;
    return known;
  }
  try {
    const user = await verifyAccessToken(token, config, now);
    remember(token, config, user);
    ctx.userId = user.userId;
    return user;
  } catch (error) {
    if (error instanceof AccessTokenError && error.reason === "expired") throw problems.tokenExpired();
    if (error instanceof AccessTokenError) throw problems.unauthenticated("The access token is not valid.");
    throw error;
  }
}

/** Admin routes: anonymous callers get 401, signed-in non-admins 403. */
export async function requireAdmin(ctx: Context, config?: TokenConfig, now?: Date): Promise<AuthUser> {
  const user = await requireUser(ctx, config, now);
  if (user.role !== "admin") throw problems.forbidden("This route is for administrators.");
  return user;
}
