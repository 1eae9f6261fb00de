// Operations reads: the status figures (ops.metrics_at), the last invariant audit, alerts.
import type { Sql } from "./db.ts";

export type OpsStatus = {
  time: string;
  /** Each figure of ops.metrics by its camelCase name; null when not known here (see ops.metrics). */
  figures: Record<string, number | null>;
  lastAudit: {
    runId: number;
    finishedAt: string;
    eventsChecked: number;
    violationCount: number;
    violations: unknown[];
    acknowledgedAt: string | null;
  } | null;
  alertsFiring: Alert[];
};

export type Alert = {
  id: number;
  rule: string;
  severity: string;
  metric: string;
  condition: string;
  firedAt: string;
  firedValue: number;
  resolvedAt: string | null;
  resolvedValue: number | null;
  description: string;
};

export type AlertKey = [string, number];

export function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const ALERT_COLUMNS = (sql: Sql) =>
  sql`a.alert_id::int as id, a.rule_id as rule, a.severity, a.metric,
      a.comparison || ' ' || a.threshold::text as condition, money.rfc3339(a.fired_at) as "firedAt",
      a.fired_value::float8 as "firedValue", money.rfc3339(a.resolved_at) as "resolvedAt",
      a.resolved_value::float8 as "resolvedValue", r.description`;

export async function readOpsStatus(sql: Sql, now = new Date()): Promise<OpsStatus> {
  const figures = await sql<{ metric: string; value: number | null }[]>`
    select metric, value::float8 as value from ops.metrics_at(${now.toISOString()}::timestamptz)`;
  const [audit] = await sql<NonNullable<OpsStatus["lastAudit"]>[]>`
    select run_id::int as "runId", money.rfc3339(finished_at) as "finishedAt", events_checked as "eventsChecked",
           violation_count as "violationCount", violations, money.rfc3339(acknowledged_at) as "acknowledgedAt"
    from ops.audit_runs order by run_id desc limit 1`;
  const firing = await sql<Alert[]>`
    select ${ALERT_COLUMNS(sql)} from ops.alerts a join ops.alert_rules r using (rule_id)
    where a.resolved_at is null order by a.fired_at desc, a.alert_id desc limit 100`;
  return {
    time: now.toISOString(),
    figures: Object.fromEntries(figures.map((f) => [camelCase(f.metric), f.value])),
    lastAudit: audit ?? null,
    alertsFiring: firing,
  };
}

/** Newest first; `state` firing (not resolved) or resolved, null for both. */
export function listAlerts(
  sql: Sql,
  state: "firing" | "resolved" | null,
  limit: number,
  after: AlertKey | null,
): Promise<Alert[]> {
  const stateFilter = state === "firing"
    ? sql`and a.resolved_at is null`
    : state === "resolved"
    ? sql`and a.resolved_at is not null`
    : sql``;
  const afterKey = after
    ? sql`and (a.fired_at, a.alert_id) < (${after[0]}::text::timestamptz, ${after[1]})`
    : sql``;
  return sql<Alert[]>`
    select ${ALERT_COLUMNS(sql)} from ops.alerts a join ops.alert_rules r using (rule_id)
    where true ${stateFilter} ${afterKey}
    order by a.fired_at desc, a.alert_id desc
    limit ${limit + 1}`;
}
