// Sending one mail through Resend with the unmodified SDK. Locally (and in tests) RESEND_BASE_URL points
// the SDK at devstack/local_mail.ts, a Resend-compatible endpoint; in production it is unset.
import { Resend } from "resend";
import { isPermanentFailure, retryAfterSeconds } from "../domain/notify/backoff.ts";

export type OutgoingMail = {
  to: string;
  subject: string;
  text: string;
  html: string;
  headers?: Record<string, string>;
  tags?: { name: string; value: string }[];
};

export type SendOutcome =
  | { ok: true; providerId: string }
  | { ok: false; status: number | null; error: string; retryAfterSeconds: number | null; permanent: boolean };

export type Mailer = { from: string; send(mail: OutgoingMail, idempotencyKey: string): Promise<SendOutcome> };

export type MailerConfig = { apiKey: string; from: string; baseUrl?: string | undefined };

export function mailerConfigFromEnv(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): MailerConfig {
  const apiKey = env("RESEND_API_KEY");
  if (!apiKey) throw new Error("Set RESEND_API_KEY.");
  return {
    apiKey,
    from: env("MAIL_FROM") ?? "Accrue <no-reply@mail.accrue.test>",
    baseUrl: env("RESEND_BASE_URL") || undefined,
  };
}

export function createResendMailer(config: MailerConfig): Mailer {
  const resend = new Resend(config.apiKey, config.baseUrl ? { baseUrl: config.baseUrl } : undefined);
  return {
    from: config.from,
    async send(mail, idempotencyKey) {
      const result = await resend.emails.send({
        from: config.from,
        to: [mail.to],
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        ...(mail.headers ? { headers: mail.headers } : {}),
        ...(mail.tags ? { tags: mail.tags } : {}),
      }, { idempotencyKey });
      if (result.data) return { ok: true, providerId: result.data.id };
      const status = result.error?.statusCode ?? null;
      const headers = (result.headers ?? {}) as Record<string, string>;
      return {
        ok: false,
        status,
        error: `${status ?? "no answer"} ${result.error?.name ?? "error"}: ${result.error?.message ?? ""}`
          .trim(),
        retryAfterSeconds: retryAfterSeconds(headers["retry-after"]),
        permanent: isPermanentFailure(status),
      };
    },
  };
}
