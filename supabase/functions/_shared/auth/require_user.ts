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

/** Verifies the caller's access token and names the user on the request's log line. */
export async function requireUser(
  ctx: Context,
  config: TokenConfig = envConfig ??= tokenConfigFromEnv(),
  now: Date = new Date(),
): Promise<AuthUser> {
  const token = bearerToken(ctx.req);
  if (!token) throw problems.unauthenticated();
  try {
    const user = await verifyAccessToken(token, config, now);
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
