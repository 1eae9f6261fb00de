// Error tracking: unhandled errors and every 5xx go to Sentry when SENTRY_DSN is set (@sentry/deno,
// loaded only then). Each event carries the request id, function, route, method and user id, and is
// scrubbed before it leaves: no passwords, tokens, secrets, emails or KYC document data, whatever field
// or message they hide in. No breadcrumbs and no request data are collected (they would carry bodies,
// headers and URLs); the stack trace and the tags say enough to find the request in the logs.
type SentryModule = typeof import("@sentry/deno");

export type ErrorContext = {
  fn: string;
  requestId: string;
  route: string;
  method: string;
  userId?: string | undefined;
};

let sentry: Promise<SentryModule | null> | undefined;

export type ErrorTrackingOptions = { dsn: string; environment?: string; release?: string };

/** Started by the first captured error (or explicitly by tests); a no-op without a DSN. */
export function initErrorTracking(
  options: ErrorTrackingOptions | null = optionsFromEnv(),
): Promise<SentryModule | null> {
  sentry ??= (async () => {
    if (!options) return null;
    const Sentry = await import("@sentry/deno");
    Sentry.init({
      dsn: options.dsn,
      environment: options.environment ?? "production",
      ...(options.release ? { release: options.release } : {}),
      sendDefaultPii: false,
      skipOpenTelemetrySetup: true,
      defaultIntegrations: false,
      integrations: [
        Sentry.linkedErrorsIntegration(),
        Sentry.dedupeIntegration(),
        Sentry.globalHandlersIntegration(),
        Sentry.denoContextIntegration(),
      ],
      beforeSend: (event) => scrub(event),
      beforeBreadcrumb: () => null,
    });
    return Sentry;
  })();
  return sentry;
}

function optionsFromEnv(): ErrorTrackingOptions | null {
  const dsn = Deno.env.get("SENTRY_DSN")?.trim();
  if (!dsn) return null;
  const environment = Deno.env.get("SENTRY_ENVIRONMENT");
  const release = Deno.env.get("APP_VERSION");
  return { dsn, ...(environment ? { environment } : {}), ...(release ? { release } : {}) };
}

/** Report an error that became a 5xx, then flush (an edge isolate may stop once the response is sent). */
export async function captureRequestError(error: unknown, ctx: ErrorContext): Promise<void> {
  if (!sentry && !Deno.env.get("SENTRY_DSN")) return;
  const Sentry = await initErrorTracking();
  if (!Sentry) return;
  Sentry.withScope((scope) => {
    scope.setTags({ function: ctx.fn, route: ctx.route, method: ctx.method, requestId: ctx.requestId });
    if (ctx.userId) scope.setUser({ id: ctx.userId });
    Sentry.captureException(error);
  });
  await Sentry.flush(2000);
}

/** For tests: stop sending, so a later test's errors go nowhere. */
export async function closeErrorTracking(): Promise<void> {
  const Sentry = await sentry;
  sentry = undefined;
  if (Sentry) await Sentry.close(2000);
}

const SENSITIVE_KEY =
  /pass(word)?|token|secret|authori[sz]ation|cookie|api[-_]?key|session|email|document|sha256|full_?name|date_?of_?birth|destination|signature|dsn|iban|card/i;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const JWT = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const PROVIDER_SECRET = /\b(sk|rk|pk)_(live|test)_[A-Za-z0-9]+|\bwhsec_[A-Za-z0-9]+/g;
// "password=...", "password: ...", '"password":"..."' inside messages.
const INLINE_SECRET = /(pass(word)?|token|secret|api[-_]?key)(["']?\s*[:=]\s*["']?)[^\s"',;&]+/gi;

export function scrubText(text: string): string {
  return text.replace(JWT, "[token]").replace(BEARER, "$1 [token]").replace(PROVIDER_SECRET, "[secret]")
    .replace(INLINE_SECRET, "$1$3[Filtered]").replace(EMAIL, "[email]");
}

/** A deep copy with sensitive keys filtered and every string cleaned. The user keeps its id only. */
export function scrub<T>(value: T, depth = 0): T {
  if (depth > 20) return "[Filtered]" as T;
  if (typeof value === "string") return scrubText(value) as T;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1)) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (key === "user" && v && typeof v === "object") {
        const id = (v as { id?: unknown }).id;
        out[key] = typeof id === "string" ? { id } : {};
      } else if (key === "request") out[key] = undefined;
      else if (key === "breadcrumbs") out[key] = [];
      else out[key] = SENSITIVE_KEY.test(key) ? "[Filtered]" : scrub(v, depth + 1);
    }
    return out as T;
  }
  return value;
}
