// Checking an HTTP answer against the committed openapi.json with an independent validator (Ajv for JSON
// Schema 2020-12, with ajv-formats). Used by the contract test and the fuzzer.
import { Ajv2020 } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";

// deno-lint-ignore no-explicit-any
export type OpenApiDocument = { paths: Record<string, Record<string, any>>; components: any };

export const openApi: OpenApiDocument = JSON.parse(
  await Deno.readTextFile(new URL("../openapi.json", import.meta.url)),
);
const ajv = new Ajv2020({ strict: false, allErrors: true });
// A CommonJS module: its plugin function is the default export's `default`.
ajvFormats.default(ajv);
ajv.addSchema(openApi, "openapi");

const pointer = (...parts: string[]) =>
  parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");

const isJsonMedia = (media: string) => media === "application/json" || media === "application/problem+json";

/** What is wrong with an answer to `method docPath` by the document (status, media type, body, the
 * RateLimit and X-Request-Id headers it promises); null when it conforms. */
export function nonConformance(
  method: string,
  docPath: string,
  status: number,
  headers: Headers,
  text: string,
): string | null {
  const operation = openApi.paths[docPath]?.[method.toLowerCase()];
  if (!operation) return `${method} ${docPath} is not in the document`;
  const documented = operation.responses[String(status)];
  if (!documented) return `status ${status} is not documented (${text.slice(0, 200)})`;
  const media = (headers.get("content-type") ?? "").split(";")[0]!.trim();
  const content = documented.content as Record<string, unknown> | undefined;
  if (!content) {
    if (text !== "") return `${status} documents no body, got ${text.slice(0, 100)}`;
  } else {
    if (!(media in content)) return `${media} is not among ${Object.keys(content)}`;
    if (isJsonMedia(media)) {
      const validate = ajv.getSchema(
        `openapi#/${pointer("paths", docPath, method.toLowerCase(), "responses", String(status))}/content/${
          pointer(media)
        }/schema`,
      )!;
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return `not JSON: ${text.slice(0, 100)}`;
      }
      if (!validate(body)) return `${JSON.stringify(validate.errors)} in ${text.slice(0, 300)}`;
    }
  }
  for (const name of Object.keys(documented.headers ?? {})) {
    if (
      (name.startsWith("RateLimit-") || name === "X-Request-Id") && !/^\S+$/.test(headers.get(name) ?? "")
    ) {
      return `no ${name} header`;
    }
  }
  return null;
}

export function parseBody(headers: Headers, text: string): unknown {
  const media = (headers.get("content-type") ?? "").split(";")[0]!.trim();
  return text && isJsonMedia(media) ? JSON.parse(text) : text;
}
