// GET /metrics: Prometheus text format (exposition format 0.0.4), for a scraper holding METRICS_TOKEN.
//   accrue_ops_<figure>                       gauges: every figure of ops.metrics (null figures omitted)
//   accrue_alerts_firing{severity}            gauge
//   accrue_http_requests_total{function,status_class}             counter, all functions (request_metrics.ts)
//   accrue_http_request_duration_seconds{function,status_class}   histogram
// POST /metrics/dispatch-alerts: send due alert notifications to ALERT_WEBHOOK_URL (pg_cron + pg_net call
// it every minute in production; the same token).
import { timingSafeEqual } from "node:crypto";
import type { Redis } from "@upstash/redis";
import { createApp, json } from "../_shared/http/app.ts";
import { problems } from "../_shared/http/problem.ts";
import {
  DURATION_BUCKETS_SECONDS,
  flushRequestMetrics,
  readRequestMetrics,
  type Series,
} from "../_shared/http/request_metrics.ts";
import {
  type AlertWebhookConfig,
  alertWebhookFromEnv,
  dispatchAlertNotifications,
} from "../_shared/infra/alert_webhook.ts";
import { db, type Sql } from "../_shared/infra/db.ts";
import { redis } from "../_shared/infra/redis.ts";

export type MetricsDeps = {
  sql: () => Sql;
  redis: () => Redis;
  token: string;
  webhook: AlertWebhookConfig | null;
};

const encoder = new TextEncoder();

function authorized(req: Request, token: string): boolean {
  const header = req.headers.get("authorization") ?? "";
  const sent = encoder.encode(header.startsWith("Bearer ") ? header.slice(7) : "");
  const expected = encoder.encode(token);
  return sent.length === expected.length && timingSafeEqual(sent, expected);
}

function requireToken(req: Request, token: string): void {
  if (!authorized(req, token)) {
    throw problems.unauthenticated("A bearer token (METRICS_TOKEN) is required.");
  }
}

/** A label value escaped as the exposition format says: backslash, double quote, newline. */
export function labelValue(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function helpText(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function number(n: number): string {
  return Number.isFinite(n) ? String(n) : n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN";
}

export function renderRequestMetrics(series: Map<string, Series>): string {
  const lines: string[] = [];
  const keys = [...series.keys()].sort();
  lines.push("# HELP accrue_http_requests_total Requests handled, by function and status class.");
  lines.push("# TYPE accrue_http_requests_total counter");
  for (const key of keys) {
    const [fn, cls] = key.split("|") as [string, string];
    lines.push(
      `accrue_http_requests_total{function="${labelValue(fn)}",status_class="${cls}"} ${
        series.get(key)!.count
      }`,
    );
  }
  lines.push(
    "# HELP accrue_http_request_duration_seconds Request latency in the function, by function and status class.",
  );
  lines.push("# TYPE accrue_http_request_duration_seconds histogram");
  for (const key of keys) {
    const [fn, cls] = key.split("|") as [string, string];
    const s = series.get(key)!;
    const labels = `function="${labelValue(fn)}",status_class="${cls}"`;
    let cumulative = 0;
    DURATION_BUCKETS_SECONDS.forEach((le, i) => {
      cumulative += s.buckets[i]!;
      lines.push(`accrue_http_request_duration_seconds_bucket{${labels},le="${le}"} ${cumulative}`);
    });
    lines.push(`accrue_http_request_duration_seconds_bucket{${labels},le="+Inf"} ${s.count}`);
    lines.push(`accrue_http_request_duration_seconds_sum{${labels}} ${number(s.sumSeconds)}`);
    lines.push(`accrue_http_request_duration_seconds_count{${labels}} ${s.count}`);
  }
  return lines.join("\n") + "\n";
}

async function renderOps(sql: Sql): Promise<string> {
  const figures = await sql<{ metric: string; value: number | null; help: string }[]>`
    select metric, value::float8 as value, help from ops.metrics_at(now()) order by metric`;
  const firing = await sql<{ severity: string; n: number }[]>`
    select s.severity, count(a.alert_id)::int as n
    from unnest(array['info', 'warning', 'critical']) s(severity)
    left join ops.alerts a on a.severity = s.severity and a.resolved_at is null
    group by s.severity order by s.severity`;
  const lines: string[] = [];
  for (const f of figures) {
    if (f.value === null) continue;
    const name = `accrue_ops_${f.metric}`;
    lines.push(`# HELP ${name} ${helpText(f.help)}`, `# TYPE ${name} gauge`, `${name} ${number(f.value)}`);
  }
  lines.push(
    "# HELP accrue_alerts_firing Alerts firing now, by severity.",
    "# TYPE accrue_alerts_firing gauge",
  );
  for (const r of firing) lines.push(`accrue_alerts_firing{severity="${r.severity}"} ${r.n}`);
  return lines.join("\n") + "\n";
}

export function createMetricsHandler(deps: MetricsDeps) {
  return createApp({
    functionName: "metrics",
    routes: [
      {
        method: "GET",
        path: "/",
        handler: async ({ req }) => {
          requireToken(req, deps.token);
          // This isolate's own counts first, so a scrape sees them at once.
          await flushRequestMetrics(deps.redis()).catch(() => {});
          const [ops, requests] = await Promise.all([
            renderOps(deps.sql()),
            readRequestMetrics(deps.redis()),
          ]);
          return new Response(ops + renderRequestMetrics(requests), {
            headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" },
          });
        },
      },
      {
        method: "POST",
        path: "/dispatch-alerts",
        handler: async ({ req }) => {
          requireToken(req, deps.token);
          if (!deps.webhook) return json({ configured: false, sent: 0, retrying: 0, dead: 0 });
          return json({ configured: true, ...await dispatchAlertNotifications(deps.sql(), deps.webhook) });
        },
      },
    ],
  });
}

export const handler = createMetricsHandler({
  sql: db,
  redis,
  token: Deno.env.get("METRICS_TOKEN") || "local-metrics-token",
  webhook: alertWebhookFromEnv(),
});
