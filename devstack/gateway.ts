// Local stand-in for Supabase's functions gateway: serves /functions/v1/<name>/... with
// supabase/functions/<name>/handler.ts, the same handler index.ts serves in production. Like the proxy
// in front of hosted functions, it appends the address of the connection to X-Forwarded-For, so the
// functions' default (the last entry) sees the real peer whatever a client wrote before it.
import { problemResponse, problems } from "../supabase/functions/_shared/http/problem.ts";

type Handler = (req: Request) => Promise<Response> | Response;

const functionsDir = new URL("../supabase/functions/", import.meta.url);
const PREFIX = "/functions/v1/";

export async function loadHandlers(): Promise<Map<string, Handler>> {
  const handlers = new Map<string, Handler>();
  for await (const entry of Deno.readDir(functionsDir)) {
    if (!entry.isDirectory || entry.name.startsWith("_")) continue;
    const file = new URL(`${entry.name}/handler.ts`, functionsDir);
    try {
      await Deno.stat(file);
    } catch {
      console.error(`skipping supabase/functions/${entry.name}: it has no handler.ts`);
      continue;
    }
    const module = await import(file.href);
    handlers.set(entry.name, module.handler as Handler);
  }
  return handlers;
}

export function createGateway(handlers: Map<string, Handler>): Deno.ServeHandler {
  return (incoming, info) => {
    const req = info.remoteAddr.transport === "tcp"
      ? withForwardedFor(incoming, info.remoteAddr.hostname)
      : incoming;
    const url = new URL(req.url);
    const name = url.pathname.startsWith(PREFIX) ? url.pathname.slice(PREFIX.length).split("/")[0]! : "";
    const handler = handlers.get(name);
    if (!handler) {
      const requestId = crypto.randomUUID();
      const response = problemResponse(problems.notFound("No such function."), requestId);
      response.headers.set("X-Request-Id", requestId);
      return response;
    }
    // The request goes through as it came: createApp routes on the part after /<name>, whether
    // Supabase's gateway (which strips /functions/v1) or this one (which does not) passed it on.
    return handler(req);
  };
}

/** The request with `peer` appended to X-Forwarded-For (a copy: a served request's headers are
 * immutable). The body stream itself is handed on: `new Request(req, init)` would wrap it in a proxy
 * stream, which is no longer a byte stream and reads ahead in chunks of its own. */
export function withForwardedFor(req: Request, peer: string): Request {
  const headers = new Headers(req.headers);
  const sent = headers.get("x-forwarded-for");
  headers.set("x-forwarded-for", sent ? `${sent}, ${peer}` : peer);
  return new Request(req.url, { method: req.method, headers, body: req.body });
}

if (import.meta.main) {
  const port = Number(Deno.env.get("API_PORT") ?? 54321);
  const handlers = await loadHandlers();
  Deno.serve({
    hostname: "127.0.0.1",
    port,
    onListen: () => {
      console.log(`gateway on http://127.0.0.1:${port}${PREFIX}{${[...handlers.keys()].join(",")}}`);
    },
  }, createGateway(handlers));
}
