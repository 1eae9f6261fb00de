// The email function: POST /email/drain sends what the outbox holds (called by pg_cron through pg_net in
// production, by devstack/mail_drain_timer.ts locally; see README "Mail"), and the one-click unsubscribe
// (GET /email/unsubscribe?token= shows a page, POST unsubscribes).
import { createApp, type Handler, json } from "../_shared/http/app.ts";
import { problems } from "../_shared/http/problem.ts";
import { lazyHandler } from "../_shared/http/function_deps.ts";
import { positiveInt } from "../_shared/auth/config.ts";
import {
  emailLinkSecretFromEnv,
  verifyUnsubscribeToken,
} from "../_shared/domain/notify/unsubscribe_token.ts";
import { escapeHtml } from "../_shared/domain/notify/render.ts";
import { setPreference, UnknownPreferenceError } from "../_shared/infra/notify_store.ts";
import { db, type Sql } from "../_shared/infra/db.ts";
import { type DrainConfig, drainDefaults, drainOutbox } from "../_shared/infra/mail_outbox.ts";
import { createResendMailer, type Mailer, mailerConfigFromEnv } from "../_shared/infra/mailer.ts";

export type EmailDeps = {
  sql: () => Sql;
  mailer: () => Mailer;
  drain: () => Promise<DrainConfig>;
  /** The Bearer secret the drain trigger sends (EMAIL_DRAIN_SECRET). */
  drainSecret: string;
  /** Signs unsubscribe links (EMAIL_LINK_SECRET, or derived from JWT_SECRET). */
  linkSecret: () => Promise<string>;
};

const PREFERENCE_NAMES: Record<string, string> = { commission_digest: "commission digests" };

function page(title: string, body: string, status = 200): Response {
  return new Response(
    `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
      `<title>${escapeHtml(title)}</title><h1>${escapeHtml(title)}</h1>${body}</html>`,
    { status, headers: { "Content-Type": "text/html; charset=utf-8" } },
  );
}

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
  // RFC 8058: the link in List-Unsubscribe. GET (a person, or a link scanner) only shows a page with a
  // button; POST (the button, or the mail client's one-click `List-Unsubscribe=One-Click`) unsubscribes.
  // A tampered, foreign or malformed token is 400 and changes nothing.
  const claimOf = async (ctx: { url: URL }) => {
    const token = ctx.url.searchParams.get("token") ?? "";
    const claim = token.length <= 512 ? await verifyUnsubscribeToken(await deps.linkSecret(), token) : null;
    if (!claim || !PREFERENCE_NAMES[claim.preference]) {
      throw problems.invalidToken();
    }
    return { token, claim };
  };
  const confirmPage: Handler = async (ctx) => {
    const { token, claim } = await claimOf(ctx);
    return page(
      "Unsubscribe",
      `<p>Stop sending ${
        PREFERENCE_NAMES[claim.preference]
      } to this address? Security and payment mails continue.</p>` +
        `<form method="post" action="?token=${encodeURIComponent(token)}">` +
        `<input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
    );
  };
  const unsubscribe: Handler = async (ctx) => {
    const { claim } = await claimOf(ctx);
    await ctx.req.body?.cancel();
    try {
      await setPreference(deps.sql(), claim.userId, claim.preference, false);
    } catch (error) {
      if (error instanceof UnknownPreferenceError) throw problems.invalidToken();
      throw error;
    }
    return page("Unsubscribed", `<p>You will no longer receive ${PREFERENCE_NAMES[claim.preference]}.</p>`);
  };
  return createApp({
    functionName: "email",
    routes: [
      { method: "POST", path: "/drain", handler: drain },
      { method: "GET", path: "/unsubscribe", handler: confirmPage },
      { method: "POST", path: "/unsubscribe", handler: unsubscribe },
    ],
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
  let secret: Promise<string> | undefined;
  return createEmailHandler({
    linkSecret: () => (secret ??= emailLinkSecretFromEnv((n) => Deno.env.get(n))),
    sql: db,
    mailer: () => (mailer ??= createResendMailer(mailerConfigFromEnv())),
    drain: () => (config ??= drainConfigFromEnv()),
    drainSecret,
  });
});
