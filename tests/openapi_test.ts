// The OpenAPI document: the committed openapi.json is what the schemas generate (run `./dev openapi`
// after changing a schema or a route), and every route in every function's route table is in it.
import assert from "node:assert/strict";
import { documentPath, openApiJson, OPERATIONS } from "../supabase/functions/_shared/contract/openapi.ts";

const root = new URL("../", import.meta.url);

Deno.test("openapi.json is what the schemas generate (./dev openapi writes it)", async () => {
  const committed = await Deno.readTextFile(new URL("openapi.json", root));
  assert.ok(committed === openApiJson(), "openapi.json is stale: run ./dev openapi and commit it");
});

/** Every `{ method: "X", path: "/y"` in the route tables of supabase/functions/<fn>/, tests excluded. */
async function routesInSource(): Promise<string[]> {
  const found: string[] = [];
  const functions = new URL("supabase/functions/", root);
  for await (const dir of Deno.readDir(functions)) {
    if (!dir.isDirectory || dir.name.startsWith("_")) continue;
    for await (const file of Deno.readDir(new URL(`${dir.name}/`, functions))) {
      if (!file.name.endsWith(".ts") || /_test(_support)?\.ts$/.test(file.name)) continue;
      const source = await Deno.readTextFile(new URL(`${dir.name}/${file.name}`, functions));
      for (const m of source.matchAll(/method:\s*"([A-Z]+)",\s*path:\s*("[^"]*"|`[^`]*`)/g)) {
        found.push(`${m[1]} ${documentPath({ fn: dir.name, path: m[2]!.slice(1, -1) })}`);
      }
    }
  }
  return found.sort();
}

/** A route of the source as a pattern: a template path (`/users/:id/${action}`) stands for one segment. */
function sourcePattern(route: string): RegExp {
  const escaped = route.replace(/\$\{[^}]*\}/g, "\0").replace(/[.*+?^()|[\]\\{}]/g, "\\$&");
  return new RegExp(`^${escaped.replace(/\0/g, "[^/]+")}$`);
}

Deno.test("the document has every route of every function, and no route that does not exist", async () => {
  const inSource = await routesInSource();
  const documented = OPERATIONS.map((op) => `${op.method} ${documentPath(op)}`);
  assert.ok(inSource.length >= 40, `found only ${inSource.length} routes in the source: the scan is broken`);
  const patterns = inSource.map(sourcePattern);
  assert.deepEqual(
    inSource.filter((_, i) => !documented.some((d) => patterns[i]!.test(d))),
    [],
    "undocumented",
  );
  assert.deepEqual(documented.filter((d) => !patterns.some((p) => p.test(d))), [], "documented, not in code");
  assert.equal(new Set(documented).size, documented.length, "an operation documented twice");
});
