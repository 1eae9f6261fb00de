// Request counters and latency histograms per function and status class, recorded once by the shared
// pipeline (createApp). On Supabase each function runs in its own isolates, so counts kept in memory
// would be invisible to the metrics function: each isolate adds what it counted to one Redis hash at
// most every FLUSH_INTERVAL_MS (one pipelined round trip), and GET /metrics reads the hash. A flush that
// fails keeps its counts for the next one; a lost isolate loses at most that interval's counts.
import type { Redis } from "@upstash/redis";

/** Histogram upper bounds in seconds (Prometheus' convention), the last one +Inf. */
export const DURATION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
export const METRICS_HASH_KEY = "accrue:metrics:http";
const FLUSH_INTERVAL_MS = 10_000;
const FLUSH_TIMEOUT_MS = 250;

export type Series = { count: number; sumSeconds: number; buckets: number[] };

let pending = new Map<string, Series>();
let lastFlushMs = Date.now();

export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

function emptySeries(): Series {
  return { count: 0, sumSeconds: 0, buckets: new Array(DURATION_BUCKETS_SECONDS.length + 1).fill(0) };
}

/** In memory, synchronous: never slows a request. */
export function recordRequest(fn: string, status: number, seconds: number): void {
  const key = `${fn}|${statusClass(status)}`;
  let series = pending.get(key);
  if (!series) pending.set(key, series = emptySeries());
  series.count++;
  series.sumSeconds += seconds;
  const i = DURATION_BUCKETS_SECONDS.findIndex((le) => seconds <= le);
  series.buckets[i === -1 ? DURATION_BUCKETS_SECONDS.length : i]!++;
}

/** Add this isolate's counts to the shared hash. Per-bucket counts (not cumulative) so increments add up. */
export async function flushRequestMetrics(redis: Redis): Promise<void> {
  if (pending.size === 0) return;
  const batch = pending;
  pending = new Map();
  lastFlushMs = Date.now();
  try {
    const p = redis.pipeline();
    for (const [key, s] of batch) {
      p.hincrby(METRICS_HASH_KEY, `${key}|count`, s.count);
      p.hincrbyfloat(METRICS_HASH_KEY, `${key}|sum`, s.sumSeconds);
      s.buckets.forEach((n, i) => {
        if (n > 0) p.hincrby(METRICS_HASH_KEY, `${key}|b${i}`, n);
      });
    }
    await p.exec();
  } catch (error) {
    // Keep the counts for the next flush (added to whatever was recorded meanwhile).
    for (const [key, s] of batch) {
      const into = pending.get(key) ?? emptySeries();
      into.count += s.count;
      into.sumSeconds += s.sumSeconds;
      s.buckets.forEach((n, i) => (into.buckets[i]! += n));
      pending.set(key, into);
    }
    throw error;
  }
}

/** Called by the pipeline after each request: flushes at most once an interval, bounded in time. */
export async function maybeFlushRequestMetrics(redis: (() => Redis) | null): Promise<void> {
  if (!redis || Date.now() - lastFlushMs < FLUSH_INTERVAL_MS || pending.size === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      flushRequestMetrics(redis()),
      new Promise((resolve) => (timer = setTimeout(resolve, FLUSH_TIMEOUT_MS))),
    ]);
  } catch {
    // Metrics never fail a request; the counts stay pending.
  } finally {
    clearTimeout(timer);
  }
}

/** The shared totals: function|class → series. */
export async function readRequestMetrics(redis: Redis): Promise<Map<string, Series>> {
  const hash = (await redis.hgetall<Record<string, string | number>>(METRICS_HASH_KEY)) ?? {};
  const out = new Map<string, Series>();
  for (const [field, raw] of Object.entries(hash)) {
    const parts = field.split("|");
    if (parts.length !== 3) continue;
    const key = `${parts[0]}|${parts[1]}`;
    const series = out.get(key) ?? emptySeries();
    const value = Number(raw);
    if (parts[2] === "count") series.count = value;
    else if (parts[2] === "sum") series.sumSeconds = value;
    else if (/^b\d+$/.test(parts[2]!)) series.buckets[Number(parts[2]!.slice(1))] = value;
    out.set(key, series);
  }
  return out;
}
