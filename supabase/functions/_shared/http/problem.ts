// One error type for everything a client may see, mapped to RFC 9457 problem details in one place.

export type FieldError = { path: string; message: string };

export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? title);
  }
}

export const problems = {
  invalidJson: (detail = "The request body is not valid JSON.") =>
    new Problem(400, "invalid_json", "Invalid JSON", detail),
  validation: (errors: FieldError[]) =>
    new Problem(400, "validation_failed", "Validation failed", "The request has invalid fields.", { errors }),
  badRequest: (detail: string) => new Problem(400, "bad_request", "Bad request", detail),
  unauthenticated: (detail = "Sign in to use this route.") =>
    new Problem(401, "unauthenticated", "Unauthenticated", detail, {
      headers: { "WWW-Authenticate": 'Bearer realm="accrue"' },
    }),
  invalidCredentials: () =>
    new Problem(401, "invalid_credentials", "Invalid credentials", "The email or password is wrong."),
  tokenExpired: () =>
    new Problem(401, "token_expired", "Token expired", "The access token has expired; refresh it.", {
      headers: { "WWW-Authenticate": 'Bearer realm="accrue", error="invalid_token"' },
    }),
  forbidden: (detail = "You are not allowed to do this.") =>
    new Problem(403, "forbidden", "Forbidden", detail),
  kycRequired: () =>
    new Problem(
      403,
      "kyc_required",
      "KYC required",
      "An approved identity verification is required for this.",
    ),
  emailUnverified: () =>
    new Problem(
      403,
      "email_unverified",
      "Email not verified",
      "Verify your email address first (POST /auth/verify-email with the link's token).",
    ),
  invalidToken: () =>
    new Problem(
      400,
      "invalid_token",
      "Invalid token",
      "The link is used, expired or unknown; ask for a new one.",
    ),
  accountFrozen: () =>
    new Problem(
      403,
      "account_frozen",
      "Account frozen",
      "This account is frozen: purchases and withdrawals are paused until an administrator unfreezes it.",
    ),
  notFound: (detail = "No such resource.") => new Problem(404, "not_found", "Not found", detail),
  methodNotAllowed: (allow: string[]) =>
    new Problem(405, "method_not_allowed", "Method not allowed", `Allowed: ${allow.join(", ")}.`, {
      headers: { Allow: allow.join(", ") },
    }),
  conflict: (detail: string, code = "conflict") => new Problem(409, code, "Conflict", detail),
  payloadTooLarge: (limitBytes: number) =>
    new Problem(
      413,
      "payload_too_large",
      "Payload too large",
      `The body may not exceed ${limitBytes} bytes.`,
    ),
  /** One uploaded file over its own limit (the body as a whole may be within the body limit). */
  fileTooLarge: (fileSizeBytesMax: number) =>
    new Problem(
      413,
      "payload_too_large",
      "Payload too large",
      `Each file may not exceed ${fileSizeBytesMax} bytes.`,
    ),
  unsupportedMediaType: (expected = "application/json") =>
    new Problem(415, "unsupported_media_type", "Unsupported media type", `Send ${expected}.`),
  unprocessable: (code: string, detail: string) => new Problem(422, code, "Unprocessable", detail),
  rateLimited: (headers: Record<string, string>) =>
    new Problem(
      429,
      "rate_limited",
      "Too many requests",
      "Too many requests; retry after the Retry-After delay.",
      {
        headers,
      },
    ),
  unavailable: (detail = "A dependency is unavailable; retry later.") =>
    new Problem(503, "unavailable", "Service unavailable", detail),
  internal: () => new Problem(500, "internal", "Internal error", "Something went wrong on our side."),
};

export function problemResponse(problem: Problem, requestId: string): Response {
  const body: Record<string, unknown> = {
    type: `/problems/${problem.code}`,
    title: problem.title,
    status: problem.status,
    detail: problem.detail ?? problem.title,
    code: problem.code,
    requestId,
  };
  if (problem.extra.errors) body.errors = problem.extra.errors;
  return new Response(JSON.stringify(body), {
    status: problem.status,
    headers: { "Content-Type": "application/problem+json", ...problem.extra.headers },
  });
}
