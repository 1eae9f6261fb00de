// Local stand-in for Upstash Redis's REST API, backed by a real redis-server.
// It lets the unmodified @upstash/redis and @upstash/ratelimit clients run in
// dev and tests. Protocol details were checked against @upstash/redis@1.39.0
// (dist/chunk-*.mjs: HttpClient, decode, Pipeline) and @upstash/ratelimit@2.2.0.
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { ConnectionError, type Reply, ReplyError, RespConnection } from "./resp_connection.ts";

type Json = null | number | string | Json[];
type Item = { result: Json } | { error: string };
type Cmd = { name: string; args: string[]; fix?: (reply: Reply) => unknown };

const MAX_BODY_BYTES = 10 * 1024 * 1024;
// Shebang flags stock Redis 7.0 understands. @upstash/ratelimit >= 2.1 adds
// Upstash-only ones (allow-key-locking) that Redis rejects, so we drop the rest.
const REDIS_SCRIPT_FLAGS = new Set(
  "no-writes allow-oom allow-stale no-cluster allow-cross-slot-keys".split(" "),
);
// Every request shares one connection, so commands that change its state (or
// hand it over to pub/sub) would break other callers.
const CONNECTION_STATE_COMMANDS = new Set(
  "SELECT MULTI EXEC DISCARD WATCH UNWATCH MONITOR QUIT RESET HELLO AUTH CLIENT".split(" ")
    .concat("SUBSCRIBE PSUBSCRIBE SSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE SUNSUBSCRIBE".split(" ")),
);

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const json = (body: unknown, status = 200) => Response.json(body, { status });
const sha1 = (text: string) => createHash("sha1").update(text, "utf8").digest("hex");

// A failure that is not a Redis error reply means the connection failed; surface
// it as 503 so callers see an outage rather than a bad command.
function unavailable(err: unknown): HttpError {
  return new HttpError(503, `Redis unavailable: ${err instanceof Error ? err.message : String(err)}`);
}

// Upstash JSON: integers stay numbers, nil is null, strings are UTF-8 text or,
// with `Upstash-Encoding: base64`, base64 of the raw bytes. The top-level "OK"
// stays plain (the client special-cases it; inside arrays it base64-decodes).
function toJson(reply: unknown, base64: boolean, topLevel = true): Json {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === "number") return reply;
  if (Array.isArray(reply)) return reply.map((r) => toJson(r, base64, false));
  const bytes = Buffer.isBuffer(reply)
    ? reply
    : Buffer.from(reply instanceof Error ? reply.message : String(reply));
  if (!base64) return bytes.toString("utf8");
  return topLevel && bytes.toString("latin1") === "OK" ? "OK" : bytes.toString("base64");
}

async function readJsonBody(req: Request): Promise<unknown> {
  if (Number(req.headers.get("content-length") ?? 0) > MAX_BODY_BYTES) {
    throw new HttpError(413, "ERR request body too large");
  }
  let text: string;
  if (req.headers.has("content-length")) {
    // Bounded by the check above; one read, without a stream reader per chunk.
    text = await req.text();
  } else {
    // Content-Length absent (chunked): count while reading.
    text = await readChunked(req);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "ERR failed to parse JSON request body");
  }
}

async function readChunked(req: Request): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body ?? []) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "ERR request body too large");
    chunks.push(chunk);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** What the endpoint served since it started: HTTP requests and the Redis commands in them. Read at
 * GET /_local/stats (not part of Upstash's API: it lets benchmarks count round trips per request). */
export type ProxyStats = { requests: number; commands: number };

export function createUpstashProxy(options: { redisUrl: string; token: string }): {
  handler: (req: Request) => Promise<Response>;
  close: () => Promise<void>;
  stats: ProxyStats;
} {
  const stats: ProxyStats = { requests: 0, commands: 0 };
  const redis = RespConnection.fromUrl(options.redisUrl);
  // Commands in one round trip to Redis; a lost connection is a 503 for each request in flight.
  const send = async (commands: string[][]): Promise<Reply[]> => {
    try {
      return await redis.send(commands);
    } catch (err) {
      if (err instanceof ConnectionError) throw unavailable(err);
      throw err;
    }
  };

  // SHA1 of a script as the client sent it -> SHA1 of the rewritten script
  // that Redis actually cached. Clients compute the original hash themselves.
  const shaOfRewritten = new Map<string, string>();

  function loadable(script: string): string {
    const shebang = /^#!(\S*)([^\n]*)/.exec(script);
    if (!shebang) return script;
    const [line, interpreter = "", rest = ""] = shebang;
    const kept = rest.trim().split(/\s+/).filter(Boolean).map((arg) => {
      if (!arg.startsWith("flags=")) return arg;
      const flags = arg.slice("flags=".length).split(",").filter((f) => REDIS_SCRIPT_FLAGS.has(f));
      return flags.length ? `flags=${flags.join(",")}` : "";
    }).filter(Boolean);
    const rewritten = [`#!${interpreter}`, ...kept].join(" ") + script.slice(line.length);
    if (rewritten !== script) shaOfRewritten.set(sha1(script), sha1(rewritten));
    return rewritten;
  }
  const toRedisSha = (sha: string) => shaOfRewritten.get(sha.toLowerCase()) ?? sha;

  // Validate one JSON command and apply the script rewrites.
  function prepare(raw: unknown): Cmd {
    if (!Array.isArray(raw) || raw.length === 0 || typeof raw[0] !== "string") {
      throw new HttpError(400, "ERR command must be a non-empty JSON array starting with the command name");
    }
    if (!raw.every((a) => ["string", "number", "boolean"].includes(typeof a))) {
      throw new HttpError(400, "ERR command arguments must be strings, numbers or booleans");
    }
    // Upper-case name, as Redis reports it in errors and as the sets above hold it.
    const [name, ...args] = [raw[0].toUpperCase(), ...raw.slice(1).map(String)];
    if (CONNECTION_STATE_COMMANDS.has(name)) {
      throw new HttpError(400, `ERR command '${name}' is not supported by the local Upstash proxy`);
    }
    const [first = "", second = ""] = args;
    const sub = first.toUpperCase();
    if ((name === "EVAL" || name === "EVAL_RO") && args.length > 0) args[0] = loadable(first);
    if ((name === "EVALSHA" || name === "EVALSHA_RO") && args.length > 0) args[0] = toRedisSha(first);
    if (name === "SCRIPT" && sub === "EXISTS") args.splice(1, Infinity, ...args.slice(1).map(toRedisSha));
    if (name === "SCRIPT" && sub === "LOAD" && args.length === 2) {
      const original = second;
      args[1] = loadable(original);
      // Report the hash the client computed, not the rewritten script's.
      return { name, args, fix: (reply) => (Buffer.isBuffer(reply) ? sha1(original) : reply) };
    }
    return { name, args };
  }

  function item(cmd: Cmd, reply: Reply, base64: boolean): Item {
    if (reply instanceof ReplyError) return { error: reply.message };
    return { result: toJson(cmd.fix ? cmd.fix(reply) : reply, base64) };
  }

  async function single(body: unknown, base64: boolean): Promise<Response> {
    const cmd = prepare(body);
    stats.commands++;
    const [reply = null] = await send([[cmd.name, ...cmd.args]]);
    if (reply instanceof ReplyError) return json({ error: reply.message }, 400);
    return json(item(cmd, reply, base64));
  }

  async function batch(body: unknown, base64: boolean, atomic: boolean): Promise<Response> {
    if (!Array.isArray(body) || body.length === 0) {
      throw new HttpError(400, "ERR expected a non-empty JSON array of commands");
    }
    const cmds = body.map(prepare);
    stats.commands += cmds.length;
    const lines = cmds.map((cmd) => [cmd.name, ...cmd.args]);
    if (!atomic) {
      const replies = await send(lines);
      return json(cmds.map((cmd, i) => item(cmd, replies[i] ?? null, base64)));
    }
    // MULTI, the commands (each answers QUEUED or a queueing error), EXEC: written back to back on the
    // one connection, so no other request's command can land inside the transaction.
    const replies = await send([["MULTI"], ...lines, ["EXEC"]]);
    const executed = replies[replies.length - 1] ?? null;
    if (!Array.isArray(executed)) {
      // EXECABORT: a command was rejected while queueing, nothing ran.
      const queueing = replies.slice(1, -1).filter((r): r is ReplyError => r instanceof ReplyError);
      const first = executed instanceof ReplyError ? executed.message : "ERR transaction was not executed";
      return json({ error: [first, ...queueing.map((e) => e.message)].join(" ") }, 400);
    }
    return json(cmds.map((cmd, i) => item(cmd, executed[i] ?? null, base64)));
  }

  async function handler(req: Request): Promise<Response> {
    try {
      const path = new URL(req.url).pathname.replace(/\/+$/, "") || "/";
      if (path === "/" && req.method === "GET") {
        // Unauthenticated health check that reflects whether redis answers.
        const [pong = null] = await send([["PING"]]);
        if (pong instanceof ReplyError) throw unavailable(pong);
        return json({ result: toJson(pong, false) });
      }
      if (path === "/_local/stats" && req.method === "GET") return json(stats);
      stats.requests++;
      if (!["/", "/pipeline", "/multi-exec"].includes(path)) return json({ error: "Not Found" }, 404);
      if (req.method !== "POST") return json({ error: "Method Not Allowed" }, 405);
      if (req.headers.get("authorization") !== `Bearer ${options.token}`) {
        return json({ error: "Unauthorized" }, 401);
      }
      const base64 = req.headers.get("upstash-encoding")?.toLowerCase() === "base64";
      const body = await readJsonBody(req);
      if (path === "/") return await single(body, base64);
      return await batch(body, base64, path === "/multi-exec");
    } catch (err) {
      if (err instanceof HttpError) return json({ error: err.message }, err.status);
      console.error("upstash proxy: unexpected error", err);
      return json(
        { error: `ERR internal proxy error: ${err instanceof Error ? err.message : String(err)}` },
        500,
      );
    }
  }

  function close(): Promise<void> {
    redis.close();
    return Promise.resolve();
  }

  return { handler, close, stats };
}

if (import.meta.main) {
  const redisUrl = Deno.env.get("REDIS_URL") ?? "redis://127.0.0.1:54379";
  const token = Deno.env.get("UPSTASH_REDIS_REST_TOKEN") ?? "local-dev-token";
  const port = Number(Deno.env.get("UPSTASH_PROXY_PORT") ?? 54380);
  const { handler } = createUpstashProxy({ redisUrl, token });
  Deno.serve({
    hostname: "127.0.0.1",
    port,
    onListen: ({ hostname, port }) => console.log(`upstash proxy: http://${hostname}:${port} -> ${redisUrl}`),
  }, handler);
}
