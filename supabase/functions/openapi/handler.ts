// GET /openapi: the OpenAPI 3.1 document of every route (_shared/contract/openapi.ts), public and
// cacheable for five minutes. The document is built once per instance: it depends on code only.
import { createApp, json } from "../_shared/http/app.ts";
import { openApiDocument } from "../_shared/contract/openapi.ts";

export function createOpenApiHandler() {
  let document: Record<string, unknown> | undefined;
  return createApp({
    functionName: "openapi",
    routes: [{
      method: "GET",
      path: "/",
      handler: () => json(document ??= openApiDocument(), 200, { "Cache-Control": "public, max-age=300" }),
    }],
  });
}

export const handler = createOpenApiHandler();
