// The typed client (clients/typescript/) against the OpenAPI operations: each client route is the
// documented operation of the same method and path and uses the very same schema objects (so its types
// are the handlers' types), and every operation a user or admin calls has a client route.
import assert from "node:assert/strict";
import { ROUTES, type RouteSpec } from "../clients/typescript/accrue_client.ts";
import { documentPath, OPERATIONS } from "../supabase/functions/_shared/contract/openapi.ts";
import { EXPORT_KINDS } from "../supabase/functions/_shared/contract/requests.ts";

/** Machine-to-machine routes a user's client does not call: webhooks, the drain and metrics secrets,
 * signed links that arrive in mails or admin views. */
const NOT_IN_CLIENT = new Set([
  "POST /stripe-webhook",
  "POST /email-webhook",
  "POST /email/drain",
  "GET /email/unsubscribe",
  "POST /email/unsubscribe",
  "GET /metrics",
  "POST /metrics/dispatch-alerts",
  "GET /kyc/documents/{userId}/{caseId}/{file}",
]);

function documentPathsOf(spec: RouteSpec): string[] {
  const path = spec.path.replace(/:([a-zA-Z]+)/g, "{$1}");
  return path.includes("{kind}") ? EXPORT_KINDS.map((kind) => path.replace("{kind}", kind)) : [path];
}

Deno.test("each client route is the documented operation, with the same schema objects", () => {
  const entries = Object.entries(ROUTES) as [string, RouteSpec][];
  assert.ok(entries.length >= 40, `only ${entries.length} client routes`);
  for (const [name, spec] of entries) {
    for (const path of documentPathsOf(spec)) {
      const op = OPERATIONS.find((o) => o.method === spec.method && documentPath(o) === path);
      assert.ok(op, `${name}: ${spec.method} ${path} is not an operation of the document`);
      assert.equal(spec.body, op.body, `${name}: request body schema`);
      assert.equal(spec.query, op.query, `${name}: query schema`);
      assert.equal(spec.response, op.ok.schema, `${name}: response schema`);
      assert.equal(spec.paged ?? false, op.paged ?? false, `${name}: paged`);
      assert.equal(spec.idempotent ?? false, op.idempotent ?? false, `${name}: Idempotency-Key`);
      assert.equal(spec.form === true, op.bodyMedia === "multipart/form-data", `${name}: multipart`);
      assert.equal(spec.text === true, /^text\/(csv|plain)/.test(op.ok.media ?? ""), `${name}: text answer`);
    }
  }
});

Deno.test("every operation a user or an admin calls has a client route", () => {
  const covered = new Set(
    (Object.values(ROUTES) as RouteSpec[]).flatMap((spec) =>
      documentPathsOf(spec).map((p) => `${spec.method} ${p}`)
    ),
  );
  const missing = OPERATIONS.map((op) => `${op.method} ${documentPath(op)}`)
    .filter((key) => !covered.has(key) && !NOT_IN_CLIENT.has(key));
  assert.deepEqual(missing, []);
  for (const key of NOT_IN_CLIENT) {
    assert.ok(OPERATIONS.some((op) => `${op.method} ${documentPath(op)}` === key), `${key} no longer exists`);
  }
});
