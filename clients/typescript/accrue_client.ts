// A typed TypeScript client for the Accrue API, built from the very zod schemas the handlers validate
// requests with and the OpenAPI document is generated from (supabase/functions/_shared/contract/), so a
// request the client's types accept is one the API's schema accepts, and each answer is typed (and by
// default checked at run time) by its documented response schema. tests/client_test.ts fails when a route
// here and the OpenAPI operation of the same method and path use different schema objects, or when an
// operation the client should cover is missing.
//
//   const api = new AccrueClient({ baseUrl: "http://127.0.0.1:54321/functions/v1" });
//   await api.signup({ email, password });               // keeps the session's tokens
//   const page = await api.call("listPurchases", { limit: 10 });
//
// Errors: every answer that is not 2xx becomes an AccrueProblem (RFC 9457 problem details, with `code`).
// Idempotency: routes that take an Idempotency-Key get one per call (a random UUID unless you pass
// `idempotencyKey`, which you should reuse when you retry the same request).
// Tokens: with a refresh token, an answer 401 `unauthenticated` (an expired access token) is retried once
// after POST /auth/refresh (`autoRefresh: false` turns that off); `onSession` sees each new pair.
import type { z } from "zod";
import * as req from "../../supabase/functions/_shared/contract/requests.ts";
import * as res from "../../supabase/functions/_shared/contract/responses.ts";

type Method = "GET" | "POST" | "PUT";

/** One route: `path` is below the functions' base URL, `:name` marks a path parameter. */
export type RouteSpec = {
  method: Method;
  path: string;
  /** A JSON request body (the handler's schema). */
  body?: z.ZodType;
  /** A multipart/form-data body (KYC documents): the caller passes a FormData. */
  form?: true;
  query?: z.ZodType;
  /** A list route: `limit` and `cursor`. */
  paged?: true;
  idempotent?: true;
  /** The JSON answer; a route without one answers with no body (204, 202) or not JSON (`text`). */
  response?: z.ZodType;
  /** The answer is text (CSV, Prometheus): returned as a string. */
  text?: true;
};

export const ROUTES = {
  health: { method: "GET", path: "/health", response: res.healthResponse },
  openapi: { method: "GET", path: "/openapi", response: res.anyObject },

  signup: { method: "POST", path: "/auth/signup", body: req.signupBody, response: res.sessionResponse },
  login: { method: "POST", path: "/auth/login", body: req.loginBody, response: res.sessionResponse },
  refresh: { method: "POST", path: "/auth/refresh", body: req.refreshBody, response: res.sessionResponse },
  logout: { method: "POST", path: "/auth/logout" },
  me: { method: "GET", path: "/auth/me", response: res.accountUser },
  requestPasswordReset: { method: "POST", path: "/auth/password-reset", body: req.passwordResetBody },
  confirmPasswordReset: {
    method: "POST",
    path: "/auth/password-reset/confirm",
    body: req.passwordResetConfirmBody,
    response: res.passwordChangedResponse,
  },
  verifyEmail: {
    method: "POST",
    path: "/auth/verify-email",
    body: req.verifyEmailBody,
    response: res.emailVerifiedResponse,
  },
  resendVerification: { method: "POST", path: "/auth/verify-email/resend" },
  changePassword: { method: "POST", path: "/auth/password", body: req.passwordChangeBody },

  listPackages: { method: "GET", path: "/packages", response: res.packageListResponse },
  purchase: {
    method: "POST",
    path: "/purchases",
    body: req.purchaseBody,
    idempotent: true,
    response: res.checkoutResponse,
  },
  listPurchases: { method: "GET", path: "/purchases", paged: true, response: res.purchasePage },

  account: { method: "GET", path: "/account", response: res.accountSummaryResponse },
  ledger: { method: "GET", path: "/account/ledger", paged: true, response: res.ledgerPage },
  contracts: { method: "GET", path: "/account/contracts", paged: true, response: res.contractPage },
  network: { method: "GET", path: "/account/network", response: res.networkResponse },
  notificationPreferences: {
    method: "GET",
    path: "/account/notifications",
    response: res.notificationPreferencesResponse,
  },
  setNotificationPreferences: {
    method: "PUT",
    path: "/account/notifications",
    body: req.notificationPreferencesBody,
    response: res.notificationPreferencesResponse,
  },

  submitKyc: {
    method: "POST",
    path: "/kyc",
    form: true,
    idempotent: true,
    response: res.kycSubmittedResponse,
  },
  kycStatus: { method: "GET", path: "/kyc", response: res.kycStatusResponse },

  withdraw: {
    method: "POST",
    path: "/withdrawals",
    body: req.withdrawalBody,
    idempotent: true,
    response: res.withdrawalResponse,
  },
  listWithdrawals: { method: "GET", path: "/withdrawals", paged: true, response: res.withdrawalPage },

  adminUsers: {
    method: "GET",
    path: "/admin/users",
    query: req.userSearchQuery,
    paged: true,
    response: res.adminUserPage,
  },
  adminUsersCsv: { method: "GET", path: "/admin/users.csv", query: req.userSearchQuery, text: true },
  adminUser: {
    method: "GET",
    path: "/admin/users/:id",
    query: req.userOverviewQuery,
    response: res.userOverviewResponse,
  },
  adminOps: { method: "GET", path: "/admin/ops", query: req.opsQuery, response: res.opsStatusResponse },
  adminAlerts: {
    method: "GET",
    path: "/admin/alerts",
    query: req.alertStateQuery,
    paged: true,
    response: res.alertPage,
  },
  adminEarningsRuns: {
    method: "GET",
    path: "/admin/earnings-runs",
    paged: true,
    response: res.earningsRunPage,
  },
  adminCreatePackage: {
    method: "POST",
    path: "/admin/packages",
    body: req.newPackageBody,
    idempotent: true,
    response: res.packageResponse,
  },
  adminRetirePackage: { method: "POST", path: "/admin/packages/:id/retire", response: res.packageResponse },
  adminKycQueue: {
    method: "GET",
    path: "/admin/kyc",
    query: req.kycStatusQuery,
    paged: true,
    response: res.kycCasePage,
  },
  adminKycCase: { method: "GET", path: "/admin/kyc/:caseId", response: res.kycCaseDetail },
  adminDecideKyc: {
    method: "POST",
    path: "/admin/kyc/:caseId/decision",
    body: req.kycDecisionBody,
    response: res.kycDecisionResult,
  },
  adminDecideKycCases: {
    method: "POST",
    path: "/admin/kyc/decisions",
    body: req.kycBulkDecisionBody,
    response: res.kycBulkDecisionResponse,
  },
  adminWithdrawals: {
    method: "GET",
    path: "/admin/withdrawals",
    query: req.withdrawalStatusQuery,
    paged: true,
    response: res.adminWithdrawalPage,
  },
  adminDecideWithdrawal: {
    method: "POST",
    path: "/admin/withdrawals/:id/decision",
    body: req.withdrawalDecisionBody,
    response: res.withdrawalResponse,
  },
  adminFreeze: {
    method: "POST",
    path: "/admin/users/:id/freeze",
    body: req.accountControlBody,
    response: res.accountControlResponse,
  },
  adminUnfreeze: {
    method: "POST",
    path: "/admin/users/:id/unfreeze",
    body: req.accountControlBody,
    response: res.accountControlResponse,
  },
  adminSetRole: {
    method: "POST",
    path: "/admin/users/:id/role",
    body: req.roleBody,
    response: res.roleChangeResponse,
  },
  adminExport: {
    method: "GET",
    path: "/admin/exports/:kind.csv",
    query: req.exportWindowQuery,
    text: true,
  },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof ROUTES;
type Spec<N extends RouteName> = (typeof ROUTES)[N];

/** `"/admin/kyc/:caseId/decision"` → `"caseId"`; `"/admin/exports/:kind.csv"` → `"kind"`. */
type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | ParamNames<`/${Rest}`>
  : P extends `${string}:${infer Name}.${string}` ? Name
  : P extends `${string}:${infer Name}` ? Name
  : never;

type ParamsArg<S extends RouteSpec> = [ParamNames<S["path"]>] extends [never] ? unknown
  : { params: Record<ParamNames<S["path"]>, string> };
type BodyArg<S extends RouteSpec> = S extends { body: infer B extends z.ZodType } ? { body: z.input<B> }
  : S extends { form: true } ? { form: FormData }
  : unknown;
type QueryArg<S extends RouteSpec> = S extends { query: infer Q extends z.ZodType } ? { query?: z.input<Q> }
  : unknown;
type PageArg<S extends RouteSpec> = S extends { paged: true } ? { limit?: number; cursor?: string } : unknown;

/** What a call takes: path parameters, the body, the query and paging, as the route has them. */
export type CallArgs<N extends RouteName> =
  & ParamsArg<Spec<N>>
  & BodyArg<Spec<N>>
  & QueryArg<Spec<N>>
  & PageArg<Spec<N>>;
/** What a call returns: the response schema's type, a string for text answers, else undefined. */
export type CallResult<N extends RouteName> = Spec<N> extends { response: infer S extends z.ZodType }
  ? z.output<S>
  : Spec<N> extends { text: true } ? string
  : undefined;

export type CallOptions = {
  /** Reuse the key of the first attempt when you retry the same request. */
  idempotencyKey?: string;
  /** A bearer token for this call only (another user's, or a service secret). */
  token?: string;
  signal?: AbortSignal;
};

export type Session = z.output<typeof res.sessionResponse>;
export type ProblemDetails = z.output<typeof res.problemResponse>;

/** A non-2xx answer: the problem details the API sent (RFC 9457, with our `code`). */
export class AccrueProblem extends Error {
  override name = "AccrueProblem";
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly requestId: string | undefined;
  readonly errors: { path: string; message: string }[] | undefined;
  /** `Retry-After` in seconds on a 429. */
  readonly retryAfterSeconds: number | undefined;
  constructor(readonly problem: ProblemDetails, retryAfter: string | null) {
    super(`${problem.status} ${problem.code}: ${problem.detail}`);
    this.status = problem.status;
    this.code = problem.code;
    this.detail = problem.detail;
    this.requestId = problem.requestId;
    this.errors = problem.errors;
    this.retryAfterSeconds = retryAfter === null ? undefined : Number(retryAfter);
  }
}

/** An answer that does not match the documented schema (only with `validateResponses`, the default). */
export class AccrueContractError extends Error {
  override name = "AccrueContractError";
  constructor(readonly route: string, readonly status: number, readonly issues: z.core.$ZodIssue[]) {
    super(
      `${route} answered ${status} with a body that does not match its schema: ${JSON.stringify(issues)}`,
    );
  }
}

export type AccrueClientOptions = {
  /** Up to and including `/functions/v1`. */
  baseUrl: string;
  accessToken?: string;
  refreshToken?: string;
  /** Check every JSON answer against its schema (default true). */
  validateResponses?: boolean;
  /** Refresh once and retry on 401 `unauthenticated` when a refresh token is held (default true). */
  autoRefresh?: boolean;
  onSession?: (session: Session) => void;
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
};

export class AccrueClient {
  accessToken: string | undefined;
  refreshToken: string | undefined;
  readonly #baseUrl: string;
  readonly #validate: boolean;
  readonly #autoRefresh: boolean;
  readonly #onSession: ((session: Session) => void) | undefined;
  readonly #fetch: (input: string, init: RequestInit) => Promise<Response>;

  constructor(options: AccrueClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.accessToken = options.accessToken;
    this.refreshToken = options.refreshToken;
    this.#validate = options.validateResponses ?? true;
    this.#autoRefresh = options.autoRefresh ?? true;
    this.#onSession = options.onSession;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Sign up and keep the session. */
  async signup(body: z.input<typeof req.signupBody>): Promise<Session> {
    return this.#keep(await this.call("signup", { body }));
  }

  /** Sign in and keep the session. */
  async login(body: z.input<typeof req.loginBody>): Promise<Session> {
    return this.#keep(await this.call("login", { body }));
  }

  /** Trade the held refresh token for a new pair (each refresh token works once). */
  async refreshSession(): Promise<Session> {
    if (!this.refreshToken) throw new Error("no refresh token held");
    return this.#keep(await this.call("refresh", { body: { refreshToken: this.refreshToken } }));
  }

  /** Every page of a list route, in the route's order. */
  async *pages<N extends RouteName & ListRouteName>(
    name: N,
    args: CallArgs<N>,
    options: CallOptions = {},
  ): AsyncGenerator<CallResult<N>> {
    let cursor: string | undefined;
    do {
      const page = await this.call(name, { ...args, ...(cursor === undefined ? {} : { cursor }) }, options);
      yield page;
      cursor = (page as { nextCursor: string | null }).nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  async call<N extends RouteName>(
    name: N,
    args: CallArgs<N>,
    options: CallOptions = {},
  ): Promise<CallResult<N>> {
    const spec: RouteSpec = ROUTES[name];
    const idempotencyKey = spec.idempotent ? options.idempotencyKey ?? crypto.randomUUID() : undefined;
    const send = () => this.#send(spec, args as CallInput, options, idempotencyKey);
    let answer = await send();
    if (
      answer.status === 401 && this.#autoRefresh && options.token === undefined && this.refreshToken &&
      name !== "refresh" && name !== "login" && name !== "signup"
    ) {
      const problem = await this.#problemOf(answer.clone());
      if (problem.code === "unauthenticated") {
        await answer.body?.cancel();
        await this.refreshSession();
        answer = await send();
      }
    }
    if (!answer.ok) throw new AccrueProblem(await this.#problemOf(answer), answer.headers.get("retry-after"));
    if (spec.text) return await answer.text() as CallResult<N>;
    if (!spec.response) {
      await answer.body?.cancel();
      return undefined as CallResult<N>;
    }
    const json: unknown = await answer.json();
    if (!this.#validate) return json as CallResult<N>;
    const parsed = spec.response.safeParse(json);
    if (!parsed.success) throw new AccrueContractError(name, answer.status, parsed.error.issues);
    return parsed.data as CallResult<N>;
  }

  #keep(session: Session): Session {
    this.accessToken = session.accessToken;
    this.refreshToken = session.refreshToken;
    this.#onSession?.(session);
    return session;
  }

  #send(spec: RouteSpec, args: CallInput, options: CallOptions, idempotencyKey: string | undefined) {
    const path = spec.path.replace(/:([a-zA-Z]+)/g, (_, name: string) => {
      const value = args.params?.[name];
      if (value === undefined) throw new Error(`missing path parameter ${name}`);
      return encodeURIComponent(value);
    });
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries({ ...args.query, limit: args.limit, cursor: args.cursor })) {
      if (value !== undefined && value !== null) query.set(key, String(value));
    }
    const headers = new Headers({ accept: "application/json, application/problem+json" });
    const token = options.token ?? this.accessToken;
    if (token) headers.set("authorization", `Bearer ${token}`);
    if (idempotencyKey) headers.set("Idempotency-Key", idempotencyKey);
    let body: BodyInit | undefined;
    if (spec.body) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(args.body);
    } else if (spec.form) body = args.form;
    const url = `${this.#baseUrl}${path}${query.size ? `?${query}` : ""}`;
    return this.#fetch(url, {
      method: spec.method,
      headers,
      body: body ?? null,
      signal: options.signal ?? null,
    });
  }

  async #problemOf(answer: Response): Promise<ProblemDetails> {
    const text = await answer.text();
    try {
      const parsed = res.problemResponse.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
    } catch {
      // not JSON: described below
    }
    // Not a problem document (a proxy's error page, say): keep what there is.
    return {
      type: "about:blank",
      title: answer.statusText,
      status: answer.status,
      detail: text.slice(0, 500),
      code: "unexpected_response",
      requestId: answer.headers.get("x-request-id") ?? "",
    };
  }
}

type CallInput = {
  params?: Record<string, string>;
  body?: unknown;
  form?: FormData;
  query?: Record<string, unknown>;
  limit?: number;
  cursor?: string;
};

/** The list routes (those that take `limit` and `cursor`). */
export type ListRouteName = {
  [N in RouteName]: Spec<N> extends { paged: true } ? N : never;
}[RouteName];
