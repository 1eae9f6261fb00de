// The request pipeline every function shares: request id, routing (404/405), CORS, security headers,
// one JSON log line per request, and one error mapper. Handlers stay small and throw Problems.
import { Problem, problemResponse, problems } from "./problem.ts";
import { IdempotencyKeyReusedError, WrongExpectedVersionError } from "../infra/event_store.ts";
import { NotAdminError } from "../infra/admin_authority.ts";
import { isRetryableConflict, isUnacceptableValue, isUnavailableError } from "../infra/db.ts";
import { redis } from "../infra/redis.ts";
import { captureRequestError, scrubText } from "../infra/error_tracking.ts";
import { maybeFlushRequestMetrics, recordRequest } from "./request_metrics.ts";

export type Context = {
  req: Request;
  url: URL;
  params: Record<string, string>;
  requestId: string;
  /** Set by authentication so the log line can name the user (never the email or token). */
  userId?: string;
};
export type Handler = (ctx: Context) => Promise<Response> | Response;
export type Route = { method: string; path: string; handler: Handler };

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{8,128}$/;

const SECURITY_HEADERS: Record<string, string> = {
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
  "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
};

export function json(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(data), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
  });
}

type CompiledRoute = Route & { pattern: RegExp; names: string[] };

/** The route's parameters in `path`, percent-decoded; null when the route does not match. A malformed
 * escape (`%E0%A4%A`, `%ff`) names no resource, so such a path matches nothing: a 404, before any
 * method check or authentication. */
function paramsOf(route: CompiledRoute, path: string): Record<string, string> | null {
  const values = route.pattern.exec(path)?.slice(1);
  if (!values) return null;
  const params: Record<string, string> = {};
  try {
    route.names.forEach((name, i) => (params[name] = decodeURIComponent(values[i]!)));
  } catch (error) {
    if (error instanceof URIError) return null;
    throw error;
  }
  return params;
}

type Match = { route: CompiledRoute; params: Record<string, string> };

/** Of the routes matching a path, the ones with the fewest parameters: a literal segment beats a
 * parameter, so `GET /kyc/decisions` is a 405 of `POST /kyc/decisions`, not a case id. */
function mostSpecific(matches: Match[]): Match[] {
  const fewest = Math.min(...matches.map((m) => m.route.names.length));
  return matches.filter((m) => m.route.names.length === fewest);
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path.replace(/\/$/, "").replace(/:([a-zA-Z]+)/g, (_, name: string) => {
    names.push(name);
    return "([^/]+)";
  });
  return { ...route, pattern: new RegExp(`^${source}/?$`), names };
}

export function toProblem(error: unknown): Problem {
  if (error instanceof Problem) return error;
  if (error instanceof WrongExpectedVersionError) {
    return problems.conflict("The resource was changed by another request; retry.");
  }
  // An admin command's own check in SQL (the guard read the role first; a demotion can land between).
  if (error instanceof NotAdminError) return problems.forbidden("This route is for administrators.");
  if (error instanceof IdempotencyKeyReusedError) {
    return problems.conflict("This Idempotency-Key was used with another request.", "idempotency_key_reused");
  }
  if (isUnavailableError(error)) return problems.unavailable();
  if (isRetryableConflict(error)) {
    return new Problem(
      503,
      "unavailable",
      "Service unavailable",
      "The request collided with another; retry.",
      {
        headers: { "Retry-After": "1" },
      },
    );
  }
  if (isUnacceptableValue(error)) {
    // Which field held it is unknown here (a body field or a query parameter that no schema refused).
    return problems.validation([{
      path: "(request)",
      message: "A value contains characters or a date the service cannot store.",
    }]);
  }
  return problems.internal();
}

const GATEWAY_PREFIX = "/functions/v1";

/** The path after /<function>: Supabase passes /<function>/..., a plain gateway /functions/v1/<function>/.... */
function routePathOf(pathname: string, functionPrefix: string): string {
  const rest = pathname.startsWith(GATEWAY_PREFIX + "/") ? pathname.slice(GATEWAY_PREFIX.length) : pathname;
  if (rest === functionPrefix || rest.startsWith(functionPrefix + "/")) {
    return rest.slice(functionPrefix.length) || "/";
  }
  return rest;
}

export type AppOptions = { functionName: string; routes: Route[]; allowedOrigins?: string[] };

// Request metrics go to Redis when it is configured (see request_metrics.ts).
const metricsRedis = Deno.env.get("UPSTASH_REDIS_REST_URL") ? redis : null;

export function createApp(options: AppOptions): (req: Request) => Promise<Response> {
  const routes = options.routes.map(compile);
  const prefix = `/${options.functionName}`;
  const allowedOrigins = options.allowedOrigins ?? corsOriginsFromEnv();

  return async (req: Request): Promise<Response> => {
    const started = performance.now();
    const url = new URL(req.url);
    const sentId = req.headers.get("x-request-id");
    const requestId = sentId && REQUEST_ID_PATTERN.test(sentId) ? sentId : crypto.randomUUID();
    const ctx: Context = { req, url, params: {}, requestId };
    let routePath = "(none)";
    let response: Response;
    try {
      const path = routePathOf(url.pathname, prefix);
      const matching = mostSpecific(
        routes.map((route) => ({ route, params: paramsOf(route, path) }))
          .filter((m): m is Match => m.params !== null),
      );
      if (req.method === "OPTIONS" && matching.length > 0) {
        response = new Response(null, { status: 204 });
      } else if (matching.length === 0) {
        throw problems.notFound("No such route.");
      } else {
        const match = matching.find(({ route: r }) =>
          r.method === req.method || (req.method === "HEAD" && r.method === "GET")
        );
        if (!match) throw problems.methodNotAllowed([...new Set(matching.map((m) => m.route.method))]);
        routePath = match.route.path;
        ctx.params = match.params;
        response = await match.route.handler(ctx);
      }
    } catch (error) {
      const problem = toProblem(error);
      if (problem.status >= 500) {
        logError(options.functionName, requestId, error);
        await captureRequestError(error, {
          fn: options.functionName,
          requestId,
          route: routePath,
          method: req.method,
          userId: ctx.userId,
        });
      }
      response = problemResponse(problem, requestId);
    }
    response = withMutableHeaders(response);
    const headers = response.headers;
    for (const name in SECURITY_HEADERS) headers.set(name, SECURITY_HEADERS[name]!);
    if (!headers.has("Cache-Control")) headers.set("Cache-Control", "no-store");
    headers.set("X-Request-Id", requestId);
    applyCors(req, headers, allowedOrigins);
    const durationMs = performance.now() - started;
    logRequest({
      function: options.functionName,
      requestId,
      method: req.method,
      route: routePath,
      status: response.status,
      durationMs: Math.round(durationMs * 10) / 10,
      userId: ctx.userId,
    });
    recordRequest(options.functionName, response.status, durationMs / 1000);
    // Off the request path: the answer never waits for a metrics flush (it is bounded and never throws).
    void maybeFlushRequestMetrics(metricsRedis);
    return response;
  };
}

/** Responses we build have mutable headers; one that came from fetch() does not, so copy only then. */
function withMutableHeaders(response: Response): Response {
  try {
    response.headers.set("X-Content-Type-Options", "nosniff");
    return response;
  } catch {
    return new Response(response.body, { status: response.status, headers: new Headers(response.headers) });
  }
}

function corsOriginsFromEnv(): string[] {
  return (Deno.env.get("CORS_ALLOWED_ORIGINS") ?? "*").split(",").map((s) => s.trim()).filter(Boolean);
}

function applyCors(req: Request, headers: Headers, allowedOrigins: string[]): void {
  const origin = req.headers.get("origin");
  if (!origin) return;
  if (allowedOrigins.includes("*")) headers.set("Access-Control-Allow-Origin", "*");
  else if (allowedOrigins.includes(origin)) {
    headers.set("Access-Control-Allow-Origin", origin);
    headers.append("Vary", "Origin");
  } else return;
  headers.set("Access-Control-Allow-Methods", "GET, POST, PUT, OPTIONS");
  headers.set(
    "Access-Control-Allow-Headers",
    "authorization, x-client-info, apikey, content-type, idempotency-key, x-request-id",
  );
  headers.set(
    "Access-Control-Expose-Headers",
    "x-request-id, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset, idempotent-replayed",
  );
  headers.set("Access-Control-Max-Age", "600");
}

const logSilent = Deno.env.get("LOG_LEVEL") === "silent";

const encoder = new TextEncoder();
const LOG_FLUSH_MS = 50;
const LOG_BUFFER_LINES_MAX = 256;
let logBuffer = "";
let logLines = 0;
let logTimer: ReturnType<typeof setTimeout> | undefined;

function flushLog(): void {
  if (logTimer !== undefined) clearTimeout(logTimer);
  logTimer = undefined;
  if (logLines === 0) return;
  const text = logBuffer;
  logBuffer = "";
  logLines = 0;
  Deno.stdout.writeSync(encoder.encode(text));
}
globalThis.addEventListener("unload", flushLog);

// One line per request. Lines are batched for at most 50 ms (one write per batch, not per request);
// at worst a crash loses the last 50 ms of request lines, never an error line (those go out at once).
function logRequest(line: Record<string, unknown>): void {
  if (logSilent) return;
  logBuffer += JSON.stringify({ time: new Date().toISOString(), level: "info", ...line }) + "\n";
  if (++logLines >= LOG_BUFFER_LINES_MAX) flushLog();
  else if (logTimer === undefined) {
    logTimer = setTimeout(flushLog, LOG_FLUSH_MS);
    Deno.unrefTimer(logTimer as unknown as number);
  }
}

/** One structured error line, written at once; `extra` says where it happened (e.g. inside a stream,
 * after the response status went out, where the request's own log line cannot report it). */
export function logError(
  fn: string,
  requestId: string,
  error: unknown,
  extra: Record<string, unknown> = {},
): void {
  // Scrubbed as Sentry events are: an error message may quote an email, a token or a password.
  const message = scrubText(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  console.error(
    JSON.stringify({
      time: new Date().toISOString(),
      level: "error",
      function: fn,
      requestId,
      ...extra,
      error: message,
    }),
  );
}
