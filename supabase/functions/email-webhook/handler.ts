// POST /email-webhook: Resend's delivery events, signed with Svix (svix-id, svix-timestamp,
// svix-signature over the raw body). A bad or missing signature is 400 and changes nothing; each event id
// is handled once. email.bounced with a permanent (hard) bounce and email.complained put the recipient
// addresses on the suppression list: nothing is sent to them again and /auth/me shows
// emailDeliverable: false. Other events are acknowledged and recorded.
import { Webhook, WebhookVerificationError } from "svix";
import { createApp, type Handler, json } from "../_shared/http/app.ts";
import { readBodyBytes } from "../_shared/http/body.ts";
import { lazyHandler } from "../_shared/http/function_deps.ts";
import { Problem, problems } from "../_shared/http/problem.ts";
import { db, type Sql } from "../_shared/infra/db.ts";
import { recordProviderEvent } from "../_shared/infra/notify_store.ts";

const BODY_LIMIT_BYTES = 256 * 1024;

export type EmailWebhookDeps = { sql: () => Sql; secret: string };

type ResendEvent = {
  type?: unknown;
  data?: { to?: unknown; bounce?: { type?: unknown } };
};

const invalidSignature = (detail: string) =>
  new Problem(400, "invalid_signature", "Invalid signature", detail);

/** Which suppression an event calls for: a hard bounce or a complaint; a soft bounce none. */
export function suppressionOf(event: ResendEvent): "bounce" | "complaint" | null {
  if (event.type === "email.complained") return "complaint";
  if (event.type !== "email.bounced") return null;
  const kind = String(event.data?.bounce?.type ?? "Permanent").toLowerCase();
  return kind === "transient" || kind === "undetermined" ? null : "bounce";
}

export function createEmailWebhookHandler(deps: EmailWebhookDeps) {
  const webhook = new Webhook(deps.secret);
  const receive: Handler = async (ctx) => {
    const raw = new TextDecoder().decode(await readBodyBytes(ctx.req, BODY_LIMIT_BYTES));
    const headers = {
      "svix-id": ctx.req.headers.get("svix-id") ?? "",
      "svix-timestamp": ctx.req.headers.get("svix-timestamp") ?? "",
      "svix-signature": ctx.req.headers.get("svix-signature") ?? "",
    };
    try {
      // Svix checks the signature over the exact bytes and a timestamp within 5 minutes (replays).
      webhook.verify(raw, headers);
    } catch (error) {
      if (error instanceof WebhookVerificationError) {
        throw invalidSignature("The Svix signature does not match this body.");
      }
      throw error;
    }
    let event: ResendEvent;
    try {
      event = JSON.parse(raw);
    } catch {
      throw problems.invalidJson();
    }
    if (typeof event?.type !== "string" || event.type.length > 100) {
      throw problems.badRequest("A signed body that is not a Resend event (no type).");
    }
    const to = event.data?.to;
    const addresses = (Array.isArray(to) ? to : [to]).filter((a): a is string =>
      typeof a === "string" && a.length <= 320
    );
    const outcome = await recordProviderEvent(deps.sql(), {
      eventId: headers["svix-id"].slice(0, 200),
      type: event.type,
      addresses,
      suppressReason: suppressionOf(event),
    });
    return json({ outcome });
  };
  return createApp({
    functionName: "email-webhook",
    routes: [{ method: "POST", path: "/", handler: receive }],
  });
}

export const LOCAL_WEBHOOK_SECRET = "whsec_bG9jYWwtZGV2ZWxvcG1lbnQtcmVzZW5kLXdlYmhvb2s=";

export const handler = lazyHandler(() =>
  createEmailWebhookHandler({
    sql: db,
    secret: Deno.env.get("RESEND_WEBHOOK_SECRET") ?? LOCAL_WEBHOOK_SECRET,
  })
);
