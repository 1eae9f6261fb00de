// ./dev openapi: write the OpenAPI document (supabase/functions/_shared/contract/openapi.ts) to
// openapi.json at the repository root. tests/openapi_test.ts fails when the committed file differs.
import { openApiJson } from "../supabase/functions/_shared/contract/openapi.ts";

const target = new URL("../openapi.json", import.meta.url);
await Deno.writeTextFile(target, openApiJson());
console.log(`wrote openapi.json`);
