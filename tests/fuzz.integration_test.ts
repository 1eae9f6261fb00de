// A fuzz run driven only by the published document (openapi.json), not by the handlers' code: for every
// operation, requests generated from the document's schemas with fast-check (fixed seed, shrinking,
// a bounded number of examples), authenticated as a user or an admin as the operation says, sent through
// the gateway. Pass criteria: no 5xx; every answer conforms to the document (nonConformance); a request
// the document calls invalid (an unknown field, a missing required field, a body that is not an object,
// an unknown query parameter) is refused with a 4xx; a method a path does not list is 405 with Allow.
// After the run the money invariants hold (zero-sum ledger, no negative balance).
// `./dev fuzz` runs this file alone; FUZZ_SEED and FUZZ_RUNS change the seed and the examples per check.
import assert from "node:assert/strict";
import fc from "fast-check";
import { fetchFrom, fn, loopbackIp, testSql } from "./support.ts";
import { nonConformance, openApi } from "./openapi_support.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261202);
const RUNS = Number(Deno.env.get("FUZZ_RUNS") ?? 10);
const PASSWORD = "correct horse battery staple";

type Schema = Record<string, unknown>;

/** Values a JSON Schema (the subset z.toJSONSchema writes) accepts. */
function arbitraryOf(schema: Schema): fc.Arbitrary<unknown> {
  if ("const" in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if (Array.isArray(schema.anyOf)) return fc.oneof(...(schema.anyOf as Schema[]).map(arbitraryOf));
  switch (schema.type) {
    case "object": {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const required = (schema.required ?? []) as string[];
      const shape = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, arbitraryOf(v)]));
      return fc.record(shape, { requiredKeys: required });
    }
    case "array":
      return fc.array(arbitraryOf((schema.items ?? {}) as Schema), {
        minLength: (schema.minItems as number | undefined) ?? 0,
        maxLength: Math.min((schema.maxItems as number | undefined) ?? 5, 5),
      });
    case "integer":
      return fc.integer({
        min: Math.max((schema.minimum as number | undefined) ?? -1e6, Number.MIN_SAFE_INTEGER),
        max: Math.min((schema.maximum as number | undefined) ?? 1e6, Number.MAX_SAFE_INTEGER),
      });
    case "number":
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case "boolean":
      return fc.boolean();
    case "string": {
      if (schema.format === "uuid") return fc.uuid();
      if (typeof schema.pattern === "string") return fc.stringMatching(new RegExp(schema.pattern as string));
      const minLength = (schema.minLength as number | undefined) ?? 0;
      return fc.string({
        minLength,
        maxLength: Math.max(minLength, Math.min((schema.maxLength as number) ?? 40, 40)),
      });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Bodies the document calls invalid for an object schema: not an object, an unknown field, a
 * required field missing. */
function invalidOf(schema: Schema): fc.Arbitrary<unknown> {
  const variants: fc.Arbitrary<unknown>[] = [
    fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 })),
    arbitraryOf(schema).map((v) => ({ ...(v as object), unknownFieldFromFuzz: 1 })),
  ];
  const required = (schema.required ?? []) as string[];
  if (required.length > 0) {
    variants.push(
      fc.tuple(arbitraryOf(schema), fc.constantFrom(...required)).map(([v, key]) => {
        const copy = { ...(v as Record<string, unknown>) };
        delete copy[key];
        return copy;
      }),
    );
  }
  return fc.oneof(...variants);
}

type Parameter = { name: string; in: string; required?: boolean; schema?: Schema; $ref?: string };
type Request = { path: string; query: Record<string, unknown>; body?: unknown; invalid: boolean };

function resolve(parameter: Parameter): Parameter {
  if (!parameter.$ref) return parameter;
  return openApi.components.parameters[parameter.$ref.split("/").pop()!];
}

function requestsOf(
  docPath: string,
  operation: Record<string, unknown>,
  invalid: boolean,
): fc.Arbitrary<Request> {
  const parameters = ((operation.parameters ?? []) as Parameter[]).map(resolve);
  const pathParams = parameters.filter((p) => p.in === "path");
  const queryParams = parameters.filter((p) => p.in === "query");
  const bodySchema = (operation.requestBody as { content?: Record<string, { schema: Schema }> } | undefined)
    ?.content?.["application/json"]?.schema;
  const pathArb = fc.tuple(
    ...pathParams.map(() => fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 12 }))),
  ).map((values) =>
    pathParams.reduce(
      (path, p, i) => path.replace(`{${p.name}}`, encodeURIComponent(values[i] as string)),
      docPath,
    )
  );
  const queryArb = fc.record(
    Object.fromEntries(queryParams.map((p) => [p.name, arbitraryOf(p.schema ?? {})])),
    { requiredKeys: queryParams.filter((p) => p.required).map((p) => p.name) },
  );
  // The one invalid thing this operation can be sent: a body when it reads one, else an unknown parameter.
  const invalidQuery = !bodySchema && queryParams.length > 0;
  return fc.record({
    path: pathArb,
    query: invalid && invalidQuery ? queryArb.map((q) => ({ ...q, unknownParamFromFuzz: "1" })) : queryArb,
    body: bodySchema ? (invalid ? invalidOf(bodySchema) : arbitraryOf(bodySchema)) : fc.constant(undefined),
    invalid: fc.constant(invalid && (bodySchema !== undefined || invalidQuery)),
  });
}

async function send(method: string, req: Request, token: string | undefined) {
  const url = new URL(fn(req.path.slice(1)));
  for (const [name, value] of Object.entries(req.query)) {
    if (value !== undefined) {
      url.searchParams.set(name, typeof value === "string" ? value : JSON.stringify(value));
    }
  }
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (req.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetchFrom(loopbackIp(), url.href, {
    method,
    headers,
    ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function tokens() {
  const sql = testSql(1);
  try {
    const make = async (admin: boolean) => {
      const email = `fuzz-${crypto.randomUUID()}@example.com`;
      const body = JSON.stringify({ email, password: PASSWORD });
      const headers = { "content-type": "application/json" };
      const signup = await fetchFrom(loopbackIp(), fn("auth/signup"), { method: "POST", headers, body });
      assert.equal(signup.status, 201, await signup.text());
      if (admin) await sql`select private.promote_to_admin(${email})`;
      const login = await fetchFrom(loopbackIp(), fn("auth/login"), { method: "POST", headers, body });
      return (await login.json()).accessToken as string;
    };
    return { user: await make(false), admin: await make(true) };
  } finally {
    await sql.end();
  }
}

const METHODS = ["get", "post", "put"] as const;
let requests = 0;

Deno.test("fuzz: every operation, valid and invalid requests from the document, answers conform", async (t) => {
  const { user, admin } = await tokens();
  for (const [docPath, item] of Object.entries(openApi.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const secured = (operation.security ?? []) as Array<Record<string, string[]>>;
      const token = secured.some((s) => s.bearerAuth?.includes("admin"))
        ? admin
        : secured.some((s) => "bearerAuth" in s)
        ? user
        : undefined;
      for (const invalid of [false, true]) {
        await t.step(`${method.toUpperCase()} ${docPath} ${invalid ? "invalid" : "valid"}`, async () => {
          await fc.assert(
            fc.asyncProperty(requestsOf(docPath, operation, invalid), async (req) => {
              const answer = await send(method.toUpperCase(), req, token);
              requests++;
              assert.ok(answer.status < 500, `${answer.status}: ${answer.text.slice(0, 300)}`);
              const problem = nonConformance(method, docPath, answer.status, answer.headers, answer.text);
              assert.equal(problem, null, problem ?? "");
              if (req.invalid) assert.ok(answer.status >= 400, `invalid request accepted: ${answer.status}`);
            }),
            { seed: SEED, numRuns: RUNS },
          );
        });
      }
    }
  }
  console.log(`fuzz: ${requests} requests, seed ${SEED}, ${RUNS} examples per check`);
});

Deno.test("fuzz: a method a path does not list is 405 with Allow", async () => {
  for (const [docPath, item] of Object.entries(openApi.paths)) {
    const listed = METHODS.filter((m) => item[m]).map((m) => m.toUpperCase());
    const path = docPath.replace(/\{[a-zA-Z]+\}/g, crypto.randomUUID());
    for (const method of ["DELETE", "PATCH", ...["GET", "POST", "PUT"].filter((m) => !listed.includes(m))]) {
      const res = await fetchFrom(loopbackIp(), fn(path.slice(1)), { method });
      assert.equal(res.status, 405, `${method} ${docPath}: ${res.status}`);
      const allow = (res.headers.get("allow") ?? "").split(", ").sort();
      assert.deepEqual(allow, [...listed].sort(), `${method} ${docPath}: Allow ${res.headers.get("allow")}`);
      await res.body?.cancel();
    }
  }
});

Deno.test("fuzz: after the run, the ledger is zero-sum and no balance is negative", async () => {
  const sql = testSql(1);
  try {
    const rows = await sql<{ v: string }[]>`
      select v from test_support.ledger_violations() as v
      union all
      select format('negative balance for %s', user_id) from public.user_accounts
        where available_minor < 0 or pending_minor < 0 or in_transit_minor < 0 or held_minor < 0`;
    assert.deepEqual(rows.map((r) => r.v), []);
  } finally {
    await sql.end();
  }
});
