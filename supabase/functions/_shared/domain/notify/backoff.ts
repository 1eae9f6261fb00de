// How the sender reads a provider's answer: which failures are worth retrying, and when.

/** Resend answers 429 with Retry-After (seconds, or an HTTP date). */
export function retryAfterSeconds(value: string | null | undefined, now = new Date()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.min(Number(trimmed), 24 * 3600);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(0, (at - now.getTime()) / 1000), 24 * 3600);
}

/** A 4xx other than 408 (timeout), 409 (a concurrent request under the same key) and 429 (rate
 * limited) will fail the same way again: the mail goes dead at once for a person to look at. No status
 * (the request never got an answer) and 5xx are retried. */
export function isPermanentFailure(status: number | null): boolean {
  if (status === null) return false;
  return status >= 400 && status < 500 && status !== 408 && status !== 409 && status !== 429;
}
