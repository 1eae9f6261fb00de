// openapi.json is a valid OpenAPI 3.1 document: it conforms to the specification's own JSON Schema (the
// official meta-schema, as packaged by @seriousme/openapi-schema-validator), every Schema Object in it is a
// valid JSON Schema 2020-12 schema (the meta-schema leaves those open), every operationId is unique and
// every $ref resolves. Each check is first shown to reject a document broken on purpose, so none can
// pass on anything.
import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";

// deno-lint-ignore no-explicit-any
type Json = any;
const committed: Json = JSON.parse(await Deno.readTextFile(new URL("../openapi.json", import.meta.url)));
const copy = (): Json => structuredClone(committed);

async function metaSchemaErrors(document: Json): Promise<string[]> {
  const validator = new Validator();
  const result = await validator.validate(document);
  if (validator.version !== "3.1") return [`validated as OpenAPI ${validator.version}, not 3.1`];
  return result.valid ? [] : (result.errors as { instancePath: string; message: string }[])
    .map((e) => `${e.instancePath} ${e.message}`);
}

/** Every Schema Object: response and request bodies, parameters, headers and components. */
function schemaObjects(document: Json): [string, Json][] {
  const found: [string, Json][] = [];
  const walk = (node: Json, at: string) => {
    if (node === null || typeof node !== "object") return;
    for (const [key, value] of Object.entries(node)) {
      if (key === "schema" && value && typeof value === "object") found.push([`${at}/schema`, value]);
      else walk(value, `${at}/${key}`);
    }
  };
  walk(document.paths, "#/paths");
  for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
    found.push([`#/components/schemas/${name}`, schema]);
  }
  return found;
}

/** Compiles each Schema Object with Ajv against the 2020-12 meta-schema, unknown keywords refused: an
 * unknown type, a misspelt keyword or a broken $ref is an error. */
function schemaErrors(document: Json): string[] {
  const ajv = new Ajv2020({
    strictSchema: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
  });
  ajvFormats.default(ajv);
  const errors: string[] = [];
  const idOf = (name: string) => `urn:openapi:components:${name}`;
  // Local $refs point into the document's components: each component is a schema of its own here.
  const resolveRefs = (schema: Json) =>
    JSON.parse(
      JSON.stringify(schema).replace(/"#\/components\/schemas\/([^"]+)"/g, (_, name) => `"${idOf(name)}"`),
    );
  const components = Object.entries(document.components?.schemas ?? {});
  for (const [name, schema] of components) {
    try {
      ajv.addSchema(resolveRefs(schema), idOf(name));
    } catch (error) {
      errors.push(`#/components/schemas/${name}: ${(error as Error).message}`);
    }
  }
  const compiled = new Map<string, string | null>(); // the ~40 problem answers share one schema text
  for (const [at, schema] of schemaObjects(document)) {
    if (at.startsWith("#/components/")) continue; // added above
    const text = JSON.stringify(resolveRefs(schema));
    if (!compiled.has(text)) {
      try {
        ajv.compile(JSON.parse(text));
        compiled.set(text, null);
      } catch (error) {
        compiled.set(text, (error as Error).message);
      }
    }
    const error = compiled.get(text);
    if (error) errors.push(`${at}: ${error}`);
  }
  return errors;
}

function operationIdErrors(document: Json): string[] {
  const ids = Object.values(document.paths as Record<string, Record<string, Json>>)
    .flatMap((item) => Object.values(item).map((op) => op.operationId as string));
  return ids.filter((id, i) => ids.indexOf(id) !== i).map((id) => `operationId ${id} is used twice`);
}

function refErrors(document: Json): string[] {
  const errors: string[] = [];
  const walk = (node: Json) => {
    if (node === null || typeof node !== "object") return;
    if (typeof node.$ref === "string") {
      const target = node.$ref.replace(/^#\//, "").split("/")
        .reduce((at: Json, part: string) => at?.[part.replace(/~1/g, "/").replace(/~0/g, "~")], document);
      if (target === undefined) errors.push(`${node.$ref} does not resolve`);
    }
    Object.values(node).forEach(walk);
  };
  walk(document);
  return errors;
}

Deno.test("openapi.json conforms to the OpenAPI 3.1 meta-schema", async () => {
  assert.deepEqual(await metaSchemaErrors(committed), []);
  const broken = copy();
  broken.paths["/auth/signup"].post.responses["201"].content = "not an object";
  assert.notDeepEqual(await metaSchemaErrors(broken), [], "the meta-schema check rejects a broken document");
});

Deno.test("every Schema Object in openapi.json is valid JSON Schema 2020-12", () => {
  const schemas = schemaObjects(committed);
  assert.ok(schemas.length >= 100, `found only ${schemas.length} schemas: the walk is broken`);
  assert.deepEqual(schemaErrors(committed), []);
  const broken = copy();
  broken.components.schemas.Problem.properties.status.type = "integr";
  assert.ok(
    schemaErrors(broken).some((e) => e.startsWith("#/components/schemas/Problem:")),
    "an unknown type",
  );
  const misspelt = copy();
  misspelt.paths["/auth/signup"].post.requestBody.content["application/json"].schema.minProperites = 1;
  assert.deepEqual(
    schemaErrors(misspelt).map((e) => e.split(":")[0]),
    ["#/paths//auth/signup/post/requestBody/content/application/json/schema"],
    "a misspelt keyword",
  );
});

Deno.test("operationIds are unique and every $ref resolves", () => {
  assert.deepEqual(operationIdErrors(committed), []);
  assert.deepEqual(refErrors(committed), []);
  const broken = copy();
  broken.paths["/auth/signup"].post.operationId = broken.paths["/auth/login"].post.operationId;
  broken.components.schemas = {};
  assert.equal(operationIdErrors(broken).length, 1);
  assert.ok(refErrors(broken).length > 0);
});
