// Alert notifications to a webhook (ALERT_WEBHOOK_URL; Slack-compatible JSON: {text, attachments}).
// Rows are claimed with SKIP LOCKED and a lease (ops.claim_alert_notifications), sent here outside any
// transaction, and each result recorded (ops.record_alert_notification: retried with backoff, dead after
// the last attempt). Delivery is at least once: a dispatcher that dies after sending but before
// recording sends that notification again when its lease expires.
import type { Sql } from "./db.ts";

export type AlertWebhookConfig = { url: string; timeoutMs: number; attemptsMax: number };

export function alertWebhookFromEnv(): AlertWebhookConfig | null {
  const url = Deno.env.get("ALERT_WEBHOOK_URL")?.trim();
  if (!url) return null;
  return { url, timeoutMs: 5000, attemptsMax: 8 };
}

export type ClaimedNotification = {
  notification_id: number;
  transition: "fired" | "resolved";
  attempts: number;
  alert_id: number;
  rule_id: string;
  severity: string;
  metric: string;
  comparison: string;
  threshold: number;
  fired_at: Date;
  fired_value: number;
  resolved_at: Date | null;
  resolved_value: number | null;
  description: string;
};

const COLORS: Record<string, string> = { critical: "#d00000", warning: "#e8a200", info: "#3a7bd5" };

/** Slack's incoming-webhook shape; `text` alone is enough for Slack, Mattermost, Discord's /slack, Teams' adapters. */
export function slackMessage(n: ClaimedNotification): Record<string, unknown> {
  const resolved = n.transition === "resolved";
  const head = resolved
    ? `RESOLVED ${n.rule_id}: ${n.metric} = ${n.resolved_value} (was ${n.fired_value})`
    : `FIRING [${n.severity}] ${n.rule_id}: ${n.metric} = ${n.fired_value} (${n.comparison} ${n.threshold})`;
  return {
    text: `${head}. ${n.description}`,
    attachments: [{
      color: resolved ? "#2eb67d" : COLORS[n.severity] ?? "#888888",
      fields: [
        { title: "alert", value: String(n.alert_id), short: true },
        { title: "severity", value: n.severity, short: true },
        { title: "fired at", value: new Date(n.fired_at).toISOString(), short: true },
        ...(n.resolved_at
          ? [{ title: "resolved at", value: new Date(n.resolved_at).toISOString(), short: true }]
          : []),
      ],
    }],
  };
}

export type DispatchResult = { sent: number; retrying: number; dead: number };

export async function dispatchAlertNotifications(
  sql: Sql,
  config: AlertWebhookConfig,
  options: { now?: () => Date; fetch?: typeof fetch; limit?: number } = {},
): Promise<DispatchResult> {
  const now = options.now ?? (() => new Date());
  const send = options.fetch ?? fetch;
  const claimed = await sql<ClaimedNotification[]>`
    select * from ops.claim_alert_notifications(${now().toISOString()}::timestamptz, 60, ${
    options.limit ?? 20
  })`;
  const result: DispatchResult = { sent: 0, retrying: 0, dead: 0 };
  for (const n of claimed) {
    let error: string | null = null;
    try {
      const res = await send(config.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(slackMessage(n)),
        signal: AbortSignal.timeout(config.timeoutMs),
      });
      await res.body?.cancel();
      if (!res.ok) error = `HTTP ${res.status}`;
    } catch (e) {
      error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    const [row] = await sql<{ status: string | null }[]>`
      select ops.record_alert_notification(${n.notification_id}, ${now().toISOString()}::timestamptz, ${error},
        ${config.attemptsMax}) as status`;
    if (row?.status === "sent") result.sent++;
    else if (row?.status === "dead") result.dead++;
    else result.retrying++;
  }
  return result;
}
