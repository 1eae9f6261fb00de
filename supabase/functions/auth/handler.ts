// The auth function: signup, login, refresh, logout, me (CONTRACT.md). Passwords are hashed with
// scrypt, access tokens are Supabase-compatible JWTs, refresh tokens rotate and are stored hashed.
//
// Rate limits and what happens when Redis is down:
//   signup   per IP (3/hour)   fails CLOSED (503): mass sign-up and the KDF's CPU cost are the risk
//   login    per IP (5/min)    fails CLOSED (503): password guessing is the risk
//            per account (10 FAILED logins / 15 min, from any IP), fails CLOSED: rotating addresses
//            must not help a guesser. A token is taken before the password is checked and given
//            back unless the password was wrong, so only failures stay counted and a burst of
//            concurrent guesses cannot all slip past a read-only check. Once locked, even the right
//            password gets 429 until the window passes (otherwise the lock would still answer
//            guesses): whoever fails 10 times can lock an account out for 15 minutes, the accepted
//            price. The bucket is an HMAC of the normalised email, so Redis holds no addresses.
//   refresh  per IP (100/min)  fails OPEN: a refresh token has 256 random bits, nothing to guess
//   logout, me  per IP (100/min) and per user (1000/hour), fail OPEN: they need a valid token already
// Public routes check their limit after reading the body (bounded to 64 KiB, no I/O) and before any
// database or KDF work: a malformed request costs nothing worth limiting, and someone who mistypes a
// 9-character password twice should not lose two of their three signups for the hour. Every attempt
// that reaches the database counts, including 401, 409 (so emails cannot be enumerated fast) and 422.
// User routes check the per-IP limit before the token, so floods of bad tokens are limited too.
import { createUserGuard, ipKey, userRoute } from "../_shared/auth/guard.ts";
import { signAccessToken } from "../_shared/auth/jwt.ts";
import { dummyPasswordHash, hashPassword, verifyPassword } from "../_shared/auth/password_hash.ts";
import { isRefreshTokenShape, newRefreshToken, refreshTokenSha256 } from "../_shared/auth/refresh_token.ts";
import { generateReferralCode } from "../_shared/domain/identity/referral_code.ts";
import { type FunctionDeps, functionDepsFromEnv, lazyHandler } from "../_shared/http/function_deps.ts";
import { type Context, createApp, json } from "../_shared/http/app.ts";
import { readJson } from "../_shared/http/body.ts";
import { problems } from "../_shared/http/problem.ts";
import { createLimiter, type RateLimitConfig, withHeaders } from "../_shared/http/ratelimit.ts";
import { emailRoutes, registerWithVerification } from "./email_routes.ts";
import {
  type AccountJson,
  EmailTakenError,
  findLogin,
  loadAccount,
  ReferralCodeCollisionError,
  revokeSession,
  rotateRefreshToken,
  startSession,
  UnknownReferralCodeError,
} from "../_shared/infra/identity_store.ts";
import { loginBody, refreshBody, signupBody } from "../_shared/contract/requests.ts";

/** Auth bodies are tiny; 64 KiB leaves room for 10,000-character junk to reach validation (400). */
export const AUTH_BODY_LIMIT_BYTES = 64 * 1024;
const REFERRAL_CODE_ATTEMPTS = 3;

export type AuthDeps = FunctionDeps;

export function createAuthHandler(deps: AuthDeps) {
  const now = deps.now ?? (() => new Date());
  const limiter = (name: string, rule: RateLimitConfig["loginPerIp"], failMode: "open" | "closed") =>
    createLimiter({ redis: deps.redis, name, rule, failMode, config: deps.rateLimits });
  const signupPerIp = limiter("signup-ip", deps.rateLimits.signupPerIp, "closed");
  const loginPerIp = limiter("login-ip", deps.rateLimits.loginPerIp, "closed");
  const loginFailuresPerAccount = limiter("login-account", deps.rateLimits.loginFailuresPerAccount, "closed");
  const accountKeySecret = crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(`login-account-key:${deps.tokens.jwtSecret}`),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  async function accountKey(email: string): Promise<string> {
    const mac = await crypto.subtle.sign("HMAC", await accountKeySecret, new TextEncoder().encode(email));
    return `account:${Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("")}`;
  }
  const refreshPerIp = limiter("refresh-ip", deps.rateLimits.apiPerIp, "open");
  const guard = createUserGuard({ ...deps, now });

  async function session(user: AccountJson, familyId: string, refreshToken: string) {
    const accessToken = await signAccessToken(
      { userId: user.id, role: user.role, sessionId: familyId },
      deps.tokens,
      now(),
    );
    return { user, accessToken, refreshToken, expiresIn: deps.tokens.accessTokenTtlSeconds };
  }

  async function signup(ctx: Context): Promise<Response> {
    const body = await readJson(ctx.req, signupBody, AUTH_BODY_LIMIT_BYTES);
    const limitHeaders = await signupPerIp.check(ipKey(ctx.req, deps.ip));
    const passwordHash = await hashPassword(body.password);
    const refreshToken = newRefreshToken();
    const familyId = crypto.randomUUID();
    for (let attempt = 1;; attempt++) {
      try {
        const user = await registerWithVerification(deps.sql(), {
          userId: crypto.randomUUID(),
          email: body.email,
          passwordHash,
          referralCode: generateReferralCode(),
          referredByCode: body.referralCode ?? null,
          familyId,
          refreshTokenSha256: await refreshTokenSha256(refreshToken),
          refreshTokenTtlSeconds: deps.tokens.refreshTokenTtlSeconds,
          requestId: ctx.requestId,
        });
        ctx.userId = user.id;
        return withHeaders(json(await session(user, familyId, refreshToken), 201), limitHeaders);
      } catch (error) {
        if (error instanceof EmailTakenError) {
          throw problems.conflict("An account with this email exists.", "email_taken");
        }
        if (error instanceof UnknownReferralCodeError) {
          throw problems.unprocessable("unknown_referral_code", "No user has this referral code.");
        }
        if (error instanceof ReferralCodeCollisionError && attempt < REFERRAL_CODE_ATTEMPTS) continue;
        throw error;
      }
    }
  }

  async function login(ctx: Context): Promise<Response> {
    const body = await readJson(ctx.req, loginBody, AUTH_BODY_LIMIT_BYTES);
    const limitHeaders = await loginPerIp.check(ipKey(ctx.req, deps.ip));
    // Unknown emails are counted the same way: a locked address says nothing about an account.
    const account = await accountKey(body.email);
    await loginFailuresPerAccount.check(account);
    let wrongCredentials = false;
    try {
      const record = await findLogin(deps.sql(), body.email);
      // Unknown emails pay for one hash too, and get the same answer: no account enumeration.
      const valid = await verifyPassword(body.password, record?.passwordHash ?? await dummyPasswordHash());
      if (!record || !valid) {
        wrongCredentials = true;
        throw problems.invalidCredentials();
      }
      const refreshToken = newRefreshToken();
      const familyId = crypto.randomUUID();
      await startSession(deps.sql(), {
        userId: record.userId,
        familyId,
        refreshTokenSha256: await refreshTokenSha256(refreshToken),
        refreshTokenTtlSeconds: deps.tokens.refreshTokenTtlSeconds,
      });
      ctx.userId = record.userId;
      return withHeaders(json(await session(record.account, familyId, refreshToken)), limitHeaders);
    } finally {
      // A success, or our own failure (database down), is not a failed login.
      if (!wrongCredentials) await loginFailuresPerAccount.refund(account);
    }
  }

  async function refresh(ctx: Context): Promise<Response> {
    const body = await readJson(ctx.req, refreshBody, AUTH_BODY_LIMIT_BYTES);
    const limitHeaders = await refreshPerIp.check(ipKey(ctx.req, deps.ip));
    if (!isRefreshTokenShape(body.refreshToken)) {
      throw problems.unauthenticated("The refresh token is not valid.");
    }
    const next = newRefreshToken();
    const rotation = await rotateRefreshToken(
      deps.sql(),
      await refreshTokenSha256(body.refreshToken),
      await refreshTokenSha256(next),
      deps.tokens.refreshTokenTtlSeconds,
    );
    switch (rotation.outcome) {
      case "rotated":
        ctx.userId = rotation.user.id;
        return withHeaders(json(await session(rotation.user, rotation.familyId, next)), limitHeaders);
      case "reused":
        throw problems.unauthenticated(
          "This refresh token was already used; the session has been revoked. Sign in again.",
        );
      case "revoked":
        throw problems.unauthenticated("The session has ended. Sign in again.");
      case "expired":
        throw problems.unauthenticated("The refresh token has expired. Sign in again.");
      case "invalid":
        throw problems.unauthenticated("The refresh token is not valid.");
      default: {
        const unexpected: never = rotation;
        throw new Error(`unexpected rotation ${JSON.stringify(unexpected)}`);
      }
    }
  }

  return createApp({
    functionName: "auth",
    routes: [
      { method: "POST", path: "/signup", handler: signup },
      { method: "POST", path: "/login", handler: login },
      { method: "POST", path: "/refresh", handler: refresh },
      {
        method: "POST",
        path: "/logout",
        handler: userRoute(guard, async (_ctx, user) => {
          await revokeSession(deps.sql(), user.userId, user.sessionId);
          return new Response(null, { status: 204 });
        }),
      },
      {
        method: "GET",
        path: "/me",
        handler: userRoute(guard, async (_ctx, user) => {
          const account = await loadAccount(deps.sql(), user.userId);
          if (!account) throw problems.unauthenticated("This account no longer exists.");
          return json(account);
        }),
      },
      ...emailRoutes(deps, guard),
    ],
  });
}

export const handler = lazyHandler(() => createAuthHandler(functionDepsFromEnv()));
