// Draining the mail outbox (supabase/migrations/20261202040000_create_notify_outbox.sql): claim a batch
// with FOR UPDATE SKIP LOCKED and a lease (a short transaction), send outside any transaction, record
// the outcomes in one statement. Sending is at least once; the outbox id as Resend's Idempotency-Key
// makes it effectively once (a retry after a crash is a replay at the provider, not a second mail).
import { MissingTemplateVariableError, renderMail } from "../domain/notify/render.ts";
import { signUnsubscribeToken } from "../domain/notify/unsubscribe_token.ts";
import type { Sql } from "./db.ts";
import type { Mailer, SendOutcome } from "./mailer.ts";

export type ClaimedMail = {
  id: string;
  kind: string;
  category: string;
  preference: string | null;
  user_id: string;
  email: string;
  variables: Record<string, unknown>;
  subject: string | null;
  text_body: string | null;
  html_body: string | null;
  attempts: number;
};

export type DrainConfig = {
  /** Where emailed links point: the app picks up `?token=` there. */
  appUrl: string;
  /** The one-click unsubscribe endpoint (GET shows a page, POST unsubscribes). */
  unsubscribeUrl: string;
  linkSecret: string;
  batchSize: number;
  /** Mails in flight at once per drainer. */
  concurrency: number;
  leaseSeconds: number;
  attemptsMax: number;
  /** Stop claiming new batches after this long (a drain request must end well before its timeout). */
  timeBudgetMs: number;
};

export const drainDefaults = {
  batchSize: 100,
  concurrency: 20,
  leaseSeconds: 60,
  attemptsMax: 8,
  timeBudgetMs: 20_000,
} as const;

export type DrainResult = { claimed: number; sent: number; retried: number; dead: number };

type Result = {
  id: string;
  ok: boolean;
  providerId?: string;
  error?: string;
  retryAfterSeconds?: number | null;
  permanent?: boolean;
};

export async function claimMails(sql: Sql, limit: number, leaseSeconds: number, attemptsMax: number) {
  return await sql<ClaimedMail[]>`
    select * from notify.claim_mails(${limit}::int, ${leaseSeconds}::int, ${attemptsMax}::int)`;
}

export async function recordMailResults(sql: Sql, results: Result[], attemptsMax: number): Promise<number> {
  if (results.length === 0) return 0;
  const [row] = await sql<{ n: number }[]>`
    select notify.record_mail_results(${sql.json(results)}::jsonb, ${attemptsMax}::int) as n`;
  return row!.n;
}

/** Render and send one claimed mail; never throws (every outcome becomes a result row). */
export async function sendClaimed(mail: ClaimedMail, mailer: Mailer, config: DrainConfig): Promise<Result> {
  try {
    if (mail.subject === null || mail.text_body === null || mail.html_body === null) {
      return { id: mail.id, ok: false, error: `no template for ${mail.kind}`, permanent: true };
    }
    const variables: Record<string, unknown> = { ...mail.variables, appUrl: config.appUrl };
    const headers: Record<string, string> = {};
    if (mail.category === "optional") {
      const preference = mail.preference ?? mail.kind;
      const token = await signUnsubscribeToken(config.linkSecret, { userId: mail.user_id, preference });
      const url = `${config.unsubscribeUrl}?token=${encodeURIComponent(token)}`;
      variables.unsubscribeUrl = url;
      headers["List-Unsubscribe"] = `<${url}>`;
      headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click";
    }
    const rendered = renderMail(
      { subject: mail.subject, text: mail.text_body, html: mail.html_body },
      variables,
    );
    const outcome: SendOutcome = await mailer.send({
      to: mail.email,
      ...rendered,
      ...(Object.keys(headers).length ? { headers } : {}),
      tags: [{ name: "kind", value: mail.kind }],
    }, mail.id);
    if (outcome.ok) return { id: mail.id, ok: true, providerId: outcome.providerId };
    return {
      id: mail.id,
      ok: false,
      error: outcome.error,
      retryAfterSeconds: outcome.retryAfterSeconds,
      permanent: outcome.permanent,
    };
  } catch (error) {
    const permanent = error instanceof MissingTemplateVariableError;
    return {
      id: mail.id,
      ok: false,
      error: error instanceof Error ? error.message : String(error),
      permanent,
    };
  }
}

async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return results;
}

/** Drain due mails until none is left or the time budget is spent. */
export async function drainOutbox(sql: Sql, mailer: Mailer, config: DrainConfig): Promise<DrainResult> {
  const started = Date.now();
  const total: DrainResult = { claimed: 0, sent: 0, retried: 0, dead: 0 };
  // A batch's results are recorded while the next batch is claimed and sent (one write in flight at a
  // time), so the sender does not idle on the database between batches.
  let recording: Promise<unknown> = Promise.resolve();
  while (Date.now() - started < config.timeBudgetMs) {
    const batch = await claimMails(sql, config.batchSize, config.leaseSeconds, config.attemptsMax);
    if (batch.length === 0) break;
    total.claimed += batch.length;
    const results = await mapBounded(batch, config.concurrency, (mail) => sendClaimed(mail, mailer, config));
    await recording;
    recording = recordMailResults(sql, results, config.attemptsMax);
    for (const [i, r] of results.entries()) {
      if (r.ok) total.sent++;
      else if (r.permanent || batch[i]!.attempts >= config.attemptsMax) total.dead++;
      else total.retried++;
    }
  }
  await recording;
  return total;
}
