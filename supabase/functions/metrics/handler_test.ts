// GET /metrics in-process against the real Postgres and Redis, parsed by a real Prometheus text parser.
import assert from "node:assert/strict";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { createApp } from "../_shared/http/app.ts";
import { flushRequestMetrics } from "../_shared/http/request_metrics.ts";
import { createSql } from "../_shared/infra/db.ts";
import { redis } from "../_shared/infra/redis.ts";
import { DATABASE_URL } from "../../../tests/support.ts";
import { createMetricsHandler, labelValue } from "./handler.ts";

type Family = {
  name: string;
  help: string;
  type: string;
  metrics: {
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    count?: string;
  }[];
};

const sql = createSql(DATABASE_URL, 2);
const metrics = createMetricsHandler({ sql: () => sql, redis, token: "test-metrics-token", webhook: null });

function scrape(token = "test-metrics-token") {
  return metrics(new Request("http://localhost/metrics", { headers: { authorization: `Bearer ${token}` } }));
}

Deno.test("GET /metrics needs the bearer token", async () => {
  assert.equal((await scrape("wrong")).status, 401);
  assert.equal((await metrics(new Request("http://localhost/metrics"))).status, 401);
});

Deno.test("the ops figures and every function's requests parse as Prometheus text", async () => {
  // A function of the test's own (a unique name), answering 200 twice and 500 once, recorded by the pipeline.
  const fn = `probe_${crypto.randomUUID().slice(0, 8)}`;
  const probe = createApp({
    functionName: fn,
    routes: [{
      method: "GET",
      path: "/",
      handler: (ctx) => new Response(null, { status: ctx.url.searchParams.has("fail") ? 500 : 200 }),
    }],
  });
  await (await probe(new Request(`http://localhost/${fn}`))).body?.cancel();
  await (await probe(new Request(`http://localhost/${fn}`))).body?.cancel();
  await (await probe(new Request(`http://localhost/${fn}?fail`))).body?.cancel();
  await flushRequestMetrics(redis());

  const res = await scrape();
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const families = parsePrometheusTextFormat(text) as Family[]; // throws on any line that is not valid
  const byName = new Map(families.map((f) => [f.name, f]));

  const lag = byName.get("accrue_ops_earnings_lag_seconds");
  assert.equal(lag?.type, "GAUGE");
  assert.ok(Number.isFinite(Number(lag!.metrics[0]!.value)));
  assert.ok(byName.has("accrue_ops_chain_unsealed_events"));
  assert.equal(byName.get("accrue_ops_outbox_backlog")?.type, "GAUGE", "the mail outbox backlog is a gauge");
  assert.deepEqual(
    byName.get("accrue_alerts_firing")!.metrics.map((m) => m.labels!.severity).sort(),
    ["critical", "info", "warning"],
  );

  const total = byName.get("accrue_http_requests_total")!;
  assert.equal(total.type, "COUNTER");
  const mine = (cls: string) =>
    total.metrics.find((m) => m.labels!.function === fn && m.labels!.status_class === cls);
  assert.equal(mine("2xx")?.value, "2");
  assert.equal(mine("5xx")?.value, "1");
  assert.equal(byName.get("accrue_http_request_duration_seconds")!.type, "HISTOGRAM");
  // This parser folds a histogram's labelled series into one (it keeps no labels for histograms), so
  // the series of the probe function are read from the lines the parser accepted.
  const sample = (suffix: string, extra = "") => {
    const line = text.split("\n").find((l) =>
      l.startsWith(
        `accrue_http_request_duration_seconds_${suffix}{function="${fn}",status_class="2xx"${extra}}`,
      )
    );
    return line?.split(" ").at(-1);
  };
  assert.equal(sample("count"), "2");
  assert.equal(sample("bucket", ',le="+Inf"'), "2");
  assert.equal(sample("bucket", ',le="10"'), "2", "buckets are cumulative");
  assert.ok(Number(sample("sum")) > 0);
});

Deno.test("label values are escaped as the exposition format says", () => {
  assert.equal(labelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
});

Deno.test("without ALERT_WEBHOOK_URL the dispatch route says so and sends nothing", async () => {
  const res = await metrics(
    new Request("http://localhost/metrics/dispatch-alerts", {
      method: "POST",
      headers: { authorization: "Bearer test-metrics-token" },
    }),
  );
  assert.deepEqual(await res.json(), { configured: false, sent: 0, retrying: 0, dead: 0 });
});

globalThis.addEventListener("unload", () => sql.end());
