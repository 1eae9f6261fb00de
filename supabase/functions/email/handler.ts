// The email function: POST /email/drain sends what the outbox holds (called by pg_cron through pg_net in
// production, by devstack/mail_drain_timer.ts locally; see README "Mail"), and the one-click unsubscribe.
import { createApp, type Handler, json } from "../_shared/http/app.ts";
import { problems } from "../_shared/http/problem.ts";
import { lazyHandler } from "../_shared/http/function_deps.ts";
import { positiveInt } from "../_shared/auth/config.ts";
import { emailLinkSecretFromEnv } from "../_shared/domain/notify/unsubscribe_token.ts";
import { db, type Sql } from "../_shared/infra/db.ts";
import { type DrainConfig, drainDefaults, drainOutbox } from "../_shared/infra/mail_outbox.ts";
import { createResendMailer, type Mailer, mailerConfigFromEnv } from "../_shared/infra/mailer.ts";

export type EmailDeps = {
  sql: () => Sql;
  mailer: () => Mailer;
  drain: () => Promise<DrainConfig>;
  /** The Bearer secret the drain trigger sends (EMAIL_DRAIN_SECRET). */
  drainSecret: string;
};

function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export function createEmailHandler(deps: EmailDeps) {
  const drain: Handler = async (ctx) => {
    const presented = /^Bearer (.+)$/.exec(ctx.req.headers.get("authorization") ?? "")?.[1] ?? "";
    if (!sameSecret(presented, deps.drainSecret)) {
      throw problems.unauthenticated("The drain secret is wrong.");
    }
    await ctx.req.body?.cancel();
    return json(await drainOutbox(deps.sql(), deps.mailer(), await deps.drain()));
  };
  return createApp({
    functionName: "email",
    routes: [{ method: "POST", path: "/drain", handler: drain }],
  });
}

export async function drainConfigFromEnv(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): Promise<DrainConfig> {
  const apiUrl = env("API_URL") ?? "http://127.0.0.1:54321";
  return {
    appUrl: env("APP_URL") ?? "http://localhost:3000",
    unsubscribeUrl: env("EMAIL_UNSUBSCRIBE_URL") ?? `${apiUrl}/functions/v1/email/unsubscribe`,
    linkSecret: await emailLinkSecretFromEnv(env),
    batchSize: positiveInt(env("EMAIL_DRAIN_BATCH"), drainDefaults.batchSize),
    concurrency: positiveInt(env("EMAIL_DRAIN_CONCURRENCY"), drainDefaults.concurrency),
    leaseSeconds: positiveInt(env("EMAIL_LEASE_SECONDS"), drainDefaults.leaseSeconds),
    attemptsMax: positiveInt(env("EMAIL_ATTEMPTS_MAX"), drainDefaults.attemptsMax),
    timeBudgetMs: positiveInt(env("EMAIL_DRAIN_BUDGET_MS"), drainDefaults.timeBudgetMs),
  };
}

export const handler = lazyHandler(() => {
  const drainSecret = Deno.env.get("EMAIL_DRAIN_SECRET");
  if (!drainSecret) throw new Error("Set EMAIL_DRAIN_SECRET.");
  let mailer: Mailer | undefined;
  let config: Promise<DrainConfig> | undefined;
  return createEmailHandler({
    sql: db,
    mailer: () => (mailer ??= createResendMailer(mailerConfigFromEnv())),
    drain: () => (config ??= drainConfigFromEnv()),
    drainSecret,
  });
});
