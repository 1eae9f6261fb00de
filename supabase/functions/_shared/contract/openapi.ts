// The OpenAPI 3.1 document of every route of every function, generated from the zod schemas the handlers
// validate with (requests.ts) and the response shapes in responses.ts, through zod 4's z.toJSONSchema
// (JSON Schema 2020-12, OpenAPI 3.1's own dialect). Served by the openapi function and written to
// openapi.json by `./dev openapi`; tests/openapi_test.ts fails when that file is stale or when a route
// in a handler's table is missing here. Refinements that JSON Schema cannot say (a NUL in a search, a
// decision that needs a reason) are enforced by the handlers and described in words.
import { z } from "zod";
import { pageQuery } from "../http/pagination.ts";
import * as req from "./requests.ts";
import * as res from "./responses.ts";

type Auth =
  | "none"
  | "user"
  | "admin"
  | "drainSecret"
  | "metricsToken"
  | "stripeSignature"
  | "svix"
  | "signedLink";

type Operation = {
  method: "GET" | "POST" | "PUT";
  /** The function's route, as in its route table (`:name` parameters). */
  path: string;
  fn: string;
  summary: string;
  auth: Auth;
  body?: z.ZodType;
  /** A media type other than JSON (KYC's multipart upload, the webhooks' raw signed bodies). */
  bodyMedia?: string;
  query?: z.ZodType;
  /** A list route: `limit` and `cursor` besides `query`. */
  paged?: boolean;
  idempotent?: boolean;
  /** Limited per client IP (and per address or account) although anonymous. */
  rateLimited?: boolean;
  ok: { status: number; schema?: z.ZodType; media?: string; description?: string };
  /** Refusals this route adds to the ones its auth, body and query imply: status → codes. */
  refusals?: Record<number, string[]>;
  /** A non-2xx answer that is not a problem (the health check's 503 names the part that is down). */
  other?: { status: number; schema: z.ZodType; description: string };
};

export const OPERATIONS: Operation[] = [
  {
    method: "GET",
    path: "/",
    fn: "health",
    summary: "Health of the database and Redis",
    auth: "none",
    ok: { status: 200, schema: res.healthResponse },
    other: { status: 503, schema: res.healthResponse, description: "A dependency is down (marked down)" },
  },
  {
    method: "GET",
    path: "/",
    fn: "openapi",
    summary: "This document",
    auth: "none",
    ok: { status: 200, schema: res.anyObject },
  },

  {
    method: "POST",
    path: "/signup",
    fn: "auth",
    summary: "Create an account",
    auth: "none",
    body: req.signupBody,
    rateLimited: true,
    ok: { status: 201, schema: res.sessionResponse },
    refusals: { 409: ["email_taken"], 422: ["unknown_referral_code"] },
  },
  {
    method: "POST",
    path: "/login",
    fn: "auth",
    summary: "Sign in",
    auth: "none",
    body: req.loginBody,
    rateLimited: true,
    ok: { status: 200, schema: res.sessionResponse },
    refusals: { 401: ["invalid_credentials"] },
  },
  {
    method: "POST",
    path: "/refresh",
    fn: "auth",
    summary: "Trade a refresh token for a new pair (each works once)",
    auth: "none",
    body: req.refreshBody,
    rateLimited: true,
    ok: { status: 200, schema: res.sessionResponse },
    refusals: { 401: ["unauthenticated"] },
  },
  {
    method: "POST",
    path: "/logout",
    fn: "auth",
    summary: "Revoke the session's refresh family",
    auth: "user",
    ok: { status: 204 },
  },
  {
    method: "GET",
    path: "/me",
    fn: "auth",
    summary: "My account",
    auth: "user",
    ok: { status: 200, schema: res.accountUser },
  },
  {
    method: "POST",
    path: "/password-reset",
    fn: "auth",
    summary: "Mail a password reset link (202 whether or not the address has an account)",
    auth: "none",
    body: req.passwordResetBody,
    rateLimited: true,
    ok: { status: 202 },
  },
  {
    method: "POST",
    path: "/password-reset/confirm",
    fn: "auth",
    summary: "Set a new password with the mailed token",
    auth: "none",
    body: req.passwordResetConfirmBody,
    ok: { status: 200, schema: res.passwordChangedResponse },
    refusals: { 400: ["invalid_token"] },
  },
  {
    method: "POST",
    path: "/verify-email",
    fn: "auth",
    summary: "Verify the email address with the mailed token",
    auth: "none",
    body: req.verifyEmailBody,
    ok: { status: 200, schema: res.emailVerifiedResponse },
    refusals: { 400: ["invalid_token"] },
  },
  {
    method: "POST",
    path: "/verify-email/resend",
    fn: "auth",
    summary: "Mail a new verification link",
    auth: "user",
    ok: { status: 202 },
  },
  {
    method: "POST",
    path: "/password",
    fn: "auth",
    summary: "Change my password (other sessions are revoked)",
    auth: "user",
    body: req.passwordChangeBody,
    ok: { status: 204 },
    refusals: { 401: ["invalid_credentials"] },
  },

  {
    method: "GET",
    path: "/",
    fn: "packages",
    summary: "The active catalog (Cache-Control: public, max-age=60)",
    auth: "none",
    ok: { status: 200, schema: res.packageListResponse },
  },

  {
    method: "POST",
    path: "/",
    fn: "purchases",
    summary: "Buy a package: a Stripe Checkout Session",
    auth: "user",
    body: req.purchaseBody,
    idempotent: true,
    ok: { status: 201, schema: res.checkoutResponse },
    refusals: { 403: ["account_frozen"], 422: ["invalid_state"] },
  },
  {
    method: "GET",
    path: "/",
    fn: "purchases",
    summary: "My purchases, newest first",
    auth: "user",
    paged: true,
    ok: { status: 200, schema: res.purchasePage },
  },

  {
    method: "POST",
    path: "/",
    fn: "stripe-webhook",
    summary: "Stripe's events (checkout, refunds, disputes)",
    auth: "stripeSignature",
    bodyMedia: "application/json",
    ok: { status: 200, schema: res.webhookReceivedResponse },
    refusals: { 400: ["invalid_signature"] },
  },

  {
    method: "GET",
    path: "/",
    fn: "account",
    summary: "My balances",
    auth: "user",
    ok: { status: 200, schema: res.accountSummaryResponse },
  },
  {
    method: "GET",
    path: "/ledger",
    fn: "account",
    summary: "My ledger entries",
    auth: "user",
    paged: true,
    ok: { status: 200, schema: res.ledgerPage },
  },
  {
    method: "GET",
    path: "/contracts",
    fn: "account",
    summary: "My contracts",
    auth: "user",
    paged: true,
    ok: { status: 200, schema: res.contractPage },
  },
  {
    method: "GET",
    path: "/network",
    fn: "account",
    summary: "My referral network, levels 1-10",
    auth: "user",
    ok: { status: 200, schema: res.networkResponse },
  },
  {
    method: "GET",
    path: "/notifications",
    fn: "account",
    summary: "My optional mails",
    auth: "user",
    ok: { status: 200, schema: res.notificationPreferencesResponse },
  },
  {
    method: "PUT",
    path: "/notifications",
    fn: "account",
    summary: "Turn optional mails on or off",
    auth: "user",
    body: req.notificationPreferencesBody,
    ok: { status: 200, schema: res.notificationPreferencesResponse },
  },

  {
    method: "POST",
    path: "/",
    fn: "kyc",
    summary: "Submit identity documents (multipart: fullName, dateOfBirth, country, files)",
    auth: "user",
    bodyMedia: "multipart/form-data",
    idempotent: true,
    ok: { status: 202, schema: res.kycSubmittedResponse },
    refusals: { 409: ["kyc_pending"], 422: ["invalid_state"] },
  },
  {
    method: "GET",
    path: "/",
    fn: "kyc",
    summary: "My KYC status",
    auth: "user",
    ok: { status: 200, schema: res.kycStatusResponse },
  },
  {
    method: "GET",
    path: "/documents/:userId/:caseId/:file",
    fn: "kyc",
    summary: "A KYC document through a signed, expiring link (local storage only)",
    auth: "signedLink",
    ok: { status: 200, media: "application/octet-stream" },
    refusals: { 403: ["forbidden"], 404: ["not_found"] },
  },

  {
    method: "POST",
    path: "/",
    fn: "withdrawals",
    summary: "Request a withdrawal",
    auth: "user",
    body: req.withdrawalBody,
    idempotent: true,
    ok: { status: 201, schema: res.withdrawalResponse },
    refusals: {
      403: ["kyc_required", "account_frozen", "email_unverified"],
      422: ["insufficient_funds", "invalid_state", "outstanding_balance", "invalid_amount"],
    },
  },
  {
    method: "GET",
    path: "/",
    fn: "withdrawals",
    summary: "My withdrawals",
    auth: "user",
    paged: true,
    ok: { status: 200, schema: res.withdrawalPage },
  },

  {
    method: "POST",
    path: "/drain",
    fn: "email",
    summary: "Send what the mail outbox holds (pg_cron through pg_net)",
    auth: "drainSecret",
    ok: { status: 200, schema: res.drainResponse },
  },
  {
    method: "GET",
    path: "/unsubscribe",
    fn: "email",
    summary: "One-click unsubscribe: a confirmation page",
    auth: "signedLink",
    ok: { status: 200, media: "text/html" },
    refusals: { 400: ["invalid_token"] },
  },
  {
    method: "POST",
    path: "/unsubscribe",
    fn: "email",
    summary: "One-click unsubscribe (RFC 8058)",
    auth: "signedLink",
    ok: { status: 200, media: "text/html" },
    refusals: { 400: ["invalid_token"] },
  },
  {
    method: "POST",
    path: "/",
    fn: "email-webhook",
    summary: "The mail provider's delivery, bounce and complaint events",
    auth: "svix",
    bodyMedia: "application/json",
    ok: { status: 200, schema: res.emailWebhookResponse },
    refusals: { 400: ["invalid_signature"] },
  },

  {
    method: "GET",
    path: "/users",
    fn: "admin",
    summary: "Users, newest first (search: email prefix, id, referral code)",
    auth: "admin",
    query: req.userSearchQuery,
    paged: true,
    ok: { status: 200, schema: res.adminUserPage },
  },
  {
    method: "GET",
    path: "/users.csv",
    fn: "admin",
    summary: "Users as CSV, streamed; a complete export ends with a trailer row (#end or #limit)",
    auth: "admin",
    query: req.userSearchQuery,
    ok: { status: 200, media: "text/csv" },
  },
  ...req.EXPORT_KINDS.map((kind): Operation => ({
    method: "GET",
    path: `/exports/${kind}.csv`,
    fn: "admin",
    summary: `Finance export of ${kind} in the UTC window [from, to) (at most 366 days), as CSV, streamed; ` +
      "a complete export ends with a #end trailer row",
    auth: "admin",
    query: req.exportWindowQuery,
    ok: { status: 200, media: "text/csv" },
  })),
  {
    method: "GET",
    path: "/ops",
    fn: "admin",
    summary:
      "Operational status: lags, queues, outbox, failed webhooks and jobs, audit, chain, alerts firing",
    auth: "admin",
    query: req.opsQuery,
    ok: { status: 200, schema: res.opsStatusResponse },
  },
  {
    method: "GET",
    path: "/alerts",
    fn: "admin",
    summary: "Alerts with fired and resolved times, newest first",
    auth: "admin",
    query: req.alertStateQuery,
    paged: true,
    ok: { status: 200, schema: res.alertPage },
  },
  {
    method: "GET",
    path: "/",
    fn: "metrics",
    summary: "Prometheus text format: the ops figures as gauges, request counters and latency histograms",
    auth: "metricsToken",
    ok: { status: 200, media: "text/plain" },
  },
  {
    method: "POST",
    path: "/dispatch-alerts",
    fn: "metrics",
    summary: "Send due alert notifications to ALERT_WEBHOOK_URL (pg_cron through pg_net)",
    auth: "metricsToken",
    ok: { status: 200, schema: res.alertDispatchResponse },
  },
  {
    method: "GET",
    path: "/users/:id",
    fn: "admin",
    summary: "One user at a glance",
    auth: "admin",
    query: req.userOverviewQuery,
    ok: { status: 200, schema: res.userOverviewResponse },
  },
  {
    method: "GET",
    path: "/earnings-runs",
    fn: "admin",
    summary: "The earnings job's run history",
    auth: "admin",
    paged: true,
    ok: { status: 200, schema: res.earningsRunPage },
  },
  {
    method: "POST",
    path: "/packages",
    fn: "admin",
    summary: "Publish a package",
    auth: "admin",
    body: req.newPackageBody,
    idempotent: true,
    ok: { status: 201, schema: res.packageResponse },
    refusals: { 422: ["invalid_currency"] },
  },
  {
    method: "POST",
    path: "/packages/:id/retire",
    fn: "admin",
    summary: "Retire a package",
    auth: "admin",
    ok: { status: 200, schema: res.packageResponse },
    refusals: { 409: ["conflict"] },
  },
  {
    method: "GET",
    path: "/kyc",
    fn: "admin",
    summary: "The KYC review queue",
    auth: "admin",
    query: req.kycStatusQuery,
    paged: true,
    ok: { status: 200, schema: res.kycCasePage },
  },
  {
    method: "POST",
    path: "/kyc/decisions",
    fn: "admin",
    summary: "Decide many KYC cases (per-item results)",
    auth: "admin",
    body: req.kycBulkDecisionBody,
    ok: { status: 200, schema: res.kycBulkDecisionResponse },
  },
  {
    method: "GET",
    path: "/kyc/:caseId",
    fn: "admin",
    summary: "A KYC case with short-lived document links",
    auth: "admin",
    ok: { status: 200, schema: res.kycCaseDetail },
  },
  {
    method: "POST",
    path: "/kyc/:caseId/decision",
    fn: "admin",
    summary: "Decide a KYC case",
    auth: "admin",
    body: req.kycDecisionBody,
    ok: { status: 200, schema: res.kycDecisionResult },
    refusals: { 422: ["invalid_state"] },
  },
  {
    method: "GET",
    path: "/withdrawals",
    fn: "admin",
    summary: "Withdrawals to review, oldest first",
    auth: "admin",
    query: req.withdrawalStatusQuery,
    paged: true,
    ok: { status: 200, schema: res.adminWithdrawalPage },
  },
  {
    method: "POST",
    path: "/withdrawals/:id/decision",
    fn: "admin",
    summary: "Approve, reject or mark paid",
    auth: "admin",
    body: req.withdrawalDecisionBody,
    ok: { status: 200, schema: res.withdrawalResponse },
    refusals: { 422: ["invalid_state"] },
  },
  {
    method: "POST",
    path: "/users/:id/freeze",
    fn: "admin",
    summary: "Freeze an account",
    auth: "admin",
    body: req.accountControlBody,
    ok: { status: 200, schema: res.accountControlResponse },
  },
  {
    method: "POST",
    path: "/users/:id/unfreeze",
    fn: "admin",
    summary: "Unfreeze an account",
    auth: "admin",
    body: req.accountControlBody,
    ok: { status: 200, schema: res.accountControlResponse },
  },
  {
    method: "POST",
    path: "/users/:id/role",
    fn: "admin",
    summary: "Make a user an admin or a user",
    auth: "admin",
    body: req.roleBody,
    ok: { status: 200, schema: res.roleChangeResponse },
    refusals: { 409: ["last_admin"] },
  },
];

const TITLES: Record<number, string> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No content",
  400: "Bad request",
  401: "Unauthenticated",
  403: "Forbidden",
  404: "Not found",
  409: "Conflict",
  413: "Payload too large",
  415: "Unsupported media type",
  422: "Refused by a business rule",
  429: "Too many requests",
  503: "A dependency is unavailable",
};

const SECURITY: Record<Auth, Array<Record<string, string[]>>> = {
  none: [],
  user: [{ bearerAuth: [] }],
  admin: [{ bearerAuth: ["admin"] }],
  drainSecret: [{ emailDrainSecret: [] }],
  metricsToken: [{ metricsToken: [] }],
  stripeSignature: [{ stripeSignature: [] }],
  svix: [{ svixSignature: [] }],
  signedLink: [],
};

/** JSON Schema 2020-12 for one zod schema, without the `$schema` key (OpenAPI 3.1 sets the dialect). */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return rest;
}

function queryParameters(schema: z.ZodType): unknown[] {
  const object = jsonSchema(schema, "input") as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: "query",
    required: object.required?.includes(name) ?? false,
    schema: property,
  }));
}

function problemRef(status: number, codes: string[]): unknown {
  const codeList = [...new Set(codes)].sort();
  return {
    description: `${TITLES[status] ?? "Problem"}: ${codeList.map((c) => `\`${c}\``).join(", ")}`,
    headers: status === 429
      ? { "Retry-After": { $ref: "#/components/headers/Retry-After" }, ...rateLimitHeaders() }
      : status === 401
      ? { "WWW-Authenticate": { schema: { type: "string" } } }
      : undefined,
    content: {
      "application/problem+json": {
        schema: {
          allOf: [{ $ref: "#/components/schemas/Problem" }, {
            properties: { status: { const: status }, code: { enum: codeList } },
          }],
        },
      },
    },
  };
}

function rateLimitHeaders(): Record<string, unknown> {
  return {
    "RateLimit-Limit": { $ref: "#/components/headers/RateLimit-Limit" },
    "RateLimit-Remaining": { $ref: "#/components/headers/RateLimit-Remaining" },
    "RateLimit-Reset": { $ref: "#/components/headers/RateLimit-Reset" },
  };
}

/** status → codes a route can answer with, from what it reads and who may call it. */
function refusalsOf(op: Operation): Map<number, string[]> {
  const out = new Map<number, string[]>();
  const add = (status: number, ...codes: string[]) => out.set(status, [...(out.get(status) ?? []), ...codes]);
  if (op.body || op.bodyMedia === "multipart/form-data") {
    add(400, "invalid_json", "validation_failed");
    add(413, "payload_too_large");
    add(415, "unsupported_media_type");
  }
  if (op.query || op.paged) add(400, "validation_failed");
  if (op.idempotent) add(400, "validation_failed"), add(409, "idempotency_key_reused", "conflict");
  if (op.auth === "user" || op.auth === "admin") add(401, "unauthenticated", "token_expired");
  if (op.auth === "admin") add(403, "forbidden");
  if (op.auth === "drainSecret" || op.auth === "metricsToken") add(401, "unauthenticated");
  if (op.path.includes(":")) add(404, "not_found");
  if (op.auth === "user" || op.auth === "admin" || op.rateLimited) add(429, "rate_limited");
  add(503, "unavailable");
  for (const [status, codes] of Object.entries(op.refusals ?? {})) add(Number(status), ...codes);
  return out;
}

function operationObject(op: Operation): Record<string, unknown> {
  const limited = op.auth === "user" || op.auth === "admin" || op.rateLimited;
  const parameters: unknown[] = [];
  for (const name of op.path.match(/:([a-zA-Z]+)/g) ?? []) {
    parameters.push({ name: name.slice(1), in: "path", required: true, schema: { type: "string" } });
  }
  if (op.query) parameters.push(...queryParameters(op.query));
  if (op.paged) parameters.push(...queryParameters(pageQuery));
  if (op.idempotent) parameters.push({ $ref: "#/components/parameters/IdempotencyKey" });
  if (op.auth === "svix") {
    for (const name of ["svix-id", "svix-timestamp"]) {
      parameters.push({ name, in: "header", required: true, schema: { type: "string" } });
    }
  }
  if (op.auth === "signedLink" && op.fn === "email") {
    parameters.push({
      name: "token",
      in: "query",
      required: true,
      schema: { type: "string", maxLength: 512 },
    });
  }
  if (op.auth === "signedLink" && op.fn === "kyc") {
    for (const name of ["expires", "signature"]) {
      parameters.push({ name, in: "query", required: true, schema: { type: "string" } });
    }
  }
  parameters.push({ $ref: "#/components/parameters/RequestId" });

  const okHeaders: Record<string, unknown> = {
    "X-Request-Id": { $ref: "#/components/headers/X-Request-Id" },
  };
  if (limited) Object.assign(okHeaders, rateLimitHeaders());
  if (op.idempotent) okHeaders["Idempotent-Replayed"] = { schema: { type: "string", enum: ["true"] } };
  const okContent = op.ok.status === 204 || (!op.ok.schema && !op.ok.media) ? undefined : {
    [op.ok.media ?? "application/json"]: { schema: op.ok.schema ? jsonSchema(op.ok.schema, "output") : {} },
  };
  const responses: Record<string, unknown> = {
    [op.ok.status]: {
      description: op.ok.description ?? TITLES[op.ok.status],
      headers: okHeaders,
      content: okContent,
    },
  };
  for (const [status, codes] of [...refusalsOf(op)].sort(([a], [b]) => a - b)) {
    responses[status] = problemRef(status, codes);
  }
  if (op.other) {
    responses[op.other.status] = {
      description: op.other.description,
      content: { "application/json": { schema: jsonSchema(op.other.schema, "output") } },
    };
  }

  const requestBody = op.body
    ? { required: true, content: { "application/json": { schema: jsonSchema(op.body, "input") } } }
    : op.bodyMedia
    ? { required: true, content: { [op.bodyMedia]: { schema: {} } } }
    : undefined;
  return {
    operationId: `${op.method.toLowerCase()}_${op.fn}${op.path}`.replace(/[^a-zA-Z0-9]+/g, "_").replace(
      /_$/,
      "",
    ),
    summary: op.summary,
    tags: [op.fn],
    security: SECURITY[op.auth],
    ...(op.auth === "admin" ? { description: "Administrators only (the token's role is admin)." } : {}),
    parameters,
    ...(requestBody ? { requestBody } : {}),
    responses: JSON.parse(JSON.stringify(responses)),
  };
}

/** The document's path for an operation: the gateway's `/<function><route>`, `{name}` parameters. */
export function documentPath(op: Pick<Operation, "fn" | "path">): string {
  const route = op.path === "/" ? "" : op.path;
  return `/${op.fn}${route}`.replace(/:([a-zA-Z]+)/g, "{$1}");
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    (paths[documentPath(op)] ??= {})[op.method.toLowerCase()] = operationObject(op);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Accrue",
      version: "1",
      description: "Referral commerce over event sourcing. Money is integer minor units with an ISO 4217 " +
        "currency. Errors are RFC 9457 problem details (application/problem+json) with a `code`. A method a " +
        "path does not list answers 405 method_not_allowed with an Allow header; an unknown path 404.",
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    servers: [{ url: "/functions/v1" }],
    paths,
    components: {
      schemas: { Problem: jsonSchema(res.problemResponse, "output") },
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "The accessToken from /auth/login; admin routes need the admin role.",
        },
        emailDrainSecret: { type: "http", scheme: "bearer", description: "EMAIL_DRAIN_SECRET" },
        metricsToken: { type: "http", scheme: "bearer", description: "METRICS_TOKEN" },
        stripeSignature: {
          type: "apiKey",
          in: "header",
          name: "Stripe-Signature",
          description: "Stripe's signature of the raw body (STRIPE_WEBHOOK_SECRET)",
        },
        svixSignature: {
          type: "apiKey",
          in: "header",
          name: "svix-signature",
          description: "Svix signature of svix-id, svix-timestamp and the raw body",
        },
      },
      parameters: {
        IdempotencyKey: {
          name: "Idempotency-Key",
          in: "header",
          required: false,
          description:
            "The same key and body replay the first answer; another body is 409 idempotency_key_reused.",
          schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x21-\\x7e]+$" },
        },
        RequestId: {
          name: "X-Request-Id",
          in: "header",
          required: false,
          description: "Echoed back when it matches the pattern; otherwise a new id.",
          schema: { type: "string" },
        },
      },
      headers: {
        "X-Request-Id": {
          schema: { type: "string" },
          description: "This request's id (also in problem bodies and logs)",
        },
        "Retry-After": { schema: { type: "string", pattern: "^[0-9]+$" }, description: "Seconds to wait" },
        "RateLimit-Limit": {
          schema: { type: "string", pattern: "^[0-9]+$" },
          description: "Requests allowed in the window of the tightest limit",
        },
        "RateLimit-Remaining": {
          schema: { type: "string", pattern: "^[0-9]+$" },
          description: "Requests left in it",
        },
        "RateLimit-Reset": {
          schema: { type: "string", pattern: "^[0-9]+$" },
          description: "Seconds until it resets",
        },
      },
    },
  };
}

/** openapi.json as committed: two-space indentation and a final newline. */
export function openApiJson(): string {
  return JSON.stringify(openApiDocument(), null, 2) + "\n";
}
