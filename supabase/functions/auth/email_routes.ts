// Password reset, email verification and password change (CONTRACT.md rows marked "notifications").
// Registered by handler.ts; every mail goes through the outbox in the same transaction as its token.
//
// Rate limits and what happens when Redis is down:
//   password-reset          3/hour per IP and 3/hour per address, fail CLOSED (503): mail bombing is the risk
//   password-reset/confirm, verify-email   per IP (the API limit), fail OPEN: 256-bit tokens, nothing to guess
//   verify-email/resend, password          the signed-in guard's limits; password also 5/min per user,
//                                          fail CLOSED (guessing the current password)
// Reset answers 202 the same way whether or not the address has an account (no enumeration): the same
// body, the same single round trip, a token generated and hashed either way.
import { ipKey, type UserGuard, userRoute } from "../_shared/auth/guard.ts";
import { hashPassword, verifyPassword } from "../_shared/auth/password_hash.ts";
import { isRefreshTokenShape, newRefreshToken, refreshTokenSha256 } from "../_shared/auth/refresh_token.ts";
import type { Context, Route } from "../_shared/http/app.ts";
import { readJson } from "../_shared/http/body.ts";
import type { FunctionDeps } from "../_shared/http/function_deps.ts";
import { problems } from "../_shared/http/problem.ts";
import { createLimiter, withHeaders } from "../_shared/http/ratelimit.ts";
import type { Sql } from "../_shared/infra/db.ts";
import {
  changePassword,
  confirmPasswordReset,
  InvalidEmailTokenError,
  passwordHashOf,
  requestEmailVerification,
  requestPasswordReset,
  verifyEmail,
} from "../_shared/infra/email_token_store.ts";
import { type AccountJson, registerUser, type Registration } from "../_shared/infra/identity_store.ts";
import {
  passwordChangeBody as changeBody,
  passwordResetBody as resetBody,
  passwordResetConfirmBody as confirmBody,
  verifyEmailBody as verifyBody,
} from "../_shared/contract/requests.ts";

const BODY_LIMIT_BYTES = 64 * 1024;

async function newEmailToken() {
  const token = newRefreshToken();
  return { token, tokenSha256: await refreshTokenSha256(token) };
}

async function addressKey(email: string): Promise<string> {
  // The address itself never reaches Redis.
  return `email:${await refreshTokenSha256(email)}`;
}

async function useToken<T>(token: string, use: (sha: string) => Promise<T>): Promise<T> {
  if (!isRefreshTokenShape(token)) throw problems.invalidToken();
  try {
    return await use(await refreshTokenSha256(token));
  } catch (error) {
    if (error instanceof InvalidEmailTokenError) throw problems.invalidToken();
    throw error;
  }
}

/** Signup's account and its first verification mail, in one transaction. */
export async function registerWithVerification(sql: Sql, registration: Registration): Promise<AccountJson> {
  const { token, tokenSha256 } = await newEmailToken();
  return await sql.begin(async (tx) => {
    const account = await registerUser(tx as unknown as Sql, registration);
    await requestEmailVerification(tx as unknown as Sql, { userId: account.id, token, tokenSha256 });
    return account;
  }) as AccountJson;
}

export function emailRoutes(deps: FunctionDeps, guard: UserGuard): Route[] {
  const limiter = (name: string, rule: FunctionDeps["rateLimits"]["apiPerIp"], failMode: "open" | "closed") =>
    createLimiter({ redis: deps.redis, name, rule, failMode, config: deps.rateLimits });
  const resetPerIp = limiter("password-reset-ip", deps.rateLimits.passwordResetPerIp, "closed");
  const resetPerAddress = limiter(
    "password-reset-address",
    deps.rateLimits.passwordResetPerAddress,
    "closed",
  );
  const tokenPerIp = limiter("email-token-ip", deps.rateLimits.apiPerIp, "open");
  const passwordPerUser = limiter("password-change-user", deps.rateLimits.loginPerIp, "closed");

  async function requestReset(ctx: Context): Promise<Response> {
    const body = await readJson(ctx.req, resetBody, BODY_LIMIT_BYTES);
    await resetPerIp.check(ipKey(ctx.req, deps.ip));
    const limitHeaders = await resetPerAddress.check(await addressKey(body.email));
    await requestPasswordReset(deps.sql(), { email: body.email, ...await newEmailToken() });
    return withHeaders(new Response(null, { status: 202 }), limitHeaders);
  }

  async function confirmReset(ctx: Context): Promise<Response> {
    const body = await readJson(ctx.req, confirmBody, BODY_LIMIT_BYTES);
    await tokenPerIp.check(ipKey(ctx.req, deps.ip));
    const passwordHash = await hashPassword(body.newPassword);
    const userId = await useToken(
      body.token,
      (tokenSha256) =>
        confirmPasswordReset(deps.sql(), { tokenSha256, passwordHash, requestId: ctx.requestId }),
    );
    ctx.userId = userId;
    return new Response(JSON.stringify({ status: "password_changed" }), {
      status: 200,
      headers: { "Content-Type": "application/json; charset=utf-8" },
    });
  }

  async function verify(ctx: Context): Promise<Response> {
    const body = await readJson(ctx.req, verifyBody, BODY_LIMIT_BYTES);
    await tokenPerIp.check(ipKey(ctx.req, deps.ip));
    const userId = await useToken(
      body.token,
      (tokenSha256) => verifyEmail(deps.sql(), { tokenSha256, requestId: ctx.requestId }),
    );
    ctx.userId = userId;
    return new Response(JSON.stringify({ emailVerified: true }), {
      status: 200,
      headers: { "Content-Type": "application/json; charset=utf-8" },
    });
  }

  return [
    { method: "POST", path: "/password-reset", handler: requestReset },
    { method: "POST", path: "/password-reset/confirm", handler: confirmReset },
    { method: "POST", path: "/verify-email", handler: verify },
    {
      method: "POST",
      path: "/verify-email/resend",
      // An address that is already verified gets nothing new; the answer is the same 202.
      handler: userRoute(guard, async (ctx, user) => {
        await ctx.req.body?.cancel();
        await requestEmailVerification(deps.sql(), { userId: user.userId, ...await newEmailToken() });
        return new Response(null, { status: 202 });
      }),
    },
    {
      method: "POST",
      path: "/password",
      handler: userRoute(guard, async (ctx, user) => {
        const body = await readJson(ctx.req, changeBody, BODY_LIMIT_BYTES);
        await passwordPerUser.check(`user:${user.userId}`);
        const current = await passwordHashOf(deps.sql(), user.userId);
        if (!current || !(await verifyPassword(body.currentPassword, current))) {
          throw problems.invalidCredentials();
        }
        await changePassword(deps.sql(), {
          userId: user.userId,
          passwordHash: await hashPassword(body.newPassword),
          keepFamilyId: user.sessionId,
          requestId: ctx.requestId,
        });
        return new Response(null, { status: 204 });
      }),
    },
  ];
}
