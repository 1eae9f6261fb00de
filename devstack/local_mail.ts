// A local stand-in for Resend's API (POST /emails), for the local stack and tests: the only way mail
// leaves Accrue is the unmodified `resend` SDK, pointed here by RESEND_BASE_URL. It keeps every message
// and shows them at http://127.0.0.1:$MAIL_PORT (54324, Supabase's local mail port) and through
// `./dev mail [address]`. It enforces what Resend enforces and Accrue relies on, so tests catch misuse:
//   - a Bearer API key (re_...), and the required fields from, to, subject, and html or text;
//   - a From address on a verified domain (LOCAL_MAIL_DOMAINS, default mail.accrue.test): 403 otherwise;
//   - Idempotency-Key (at most 256 characters): the same key with the same body within 24 hours returns
//     the first answer and sends nothing; the same key with another body is 409 invalid_idempotent_request.
// Tests start one in-process (startLocalMail) and can make it fail the next requests (500, 429 + Retry-After).

export type StoredMail = {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text: string | null;
  html: string | null;
  headers: Record<string, string>;
  tags: { name: string; value: string }[];
  idempotencyKey: string | null;
  createdAt: string;
};

export type Fault = { status: number; headers?: Record<string, string> };

export type LocalMail = {
  url: string;
  port: number;
  /** Kept messages, oldest first (bodies of the latest `keepMax` only). */
  messages: StoredMail[];
  stats: { accepted: number; replayed: number; rejected: number; requests: number };
  /** Idempotency keys of accepted messages (all of them, for counting duplicates). */
  acceptedKeys: Map<string, number>;
  /** The next requests fail this way, in order (before anything is stored). */
  faults: Fault[];
  clear(): void;
  close(): Promise<void>;
};

const BODY_LIMIT_BYTES = 1024 * 1024;

/** A 53-bit FNV-1a of the body: the idempotency check compares payloads without keeping them all. */
function bodyHash(text: string): number {
  let h1 = 0x811c9dc5, h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 16777619);
    h2 = Math.imul(h2 ^ c, 2246822507);
  }
  return (h2 >>> 0) * 2097152 + ((h1 >>> 0) & 0x1fffff);
}
const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

function resendError(status: number, name: string, message: string, headers: Record<string, string> = {}) {
  return Response.json({ statusCode: status, name, message }, { status, headers });
}

function addressOf(value: string): string {
  const angle = /<([^<>]+)>\s*$/.exec(value);
  return (angle ? angle[1]! : value).trim();
}

const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

function escapeHtml(value: string): string {
  return value.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll(
    '"',
    "&quot;",
  );
}

/** The links in a message (what `./dev mail` prints, and what tests pick tokens from). */
export function linksOf(mail: Pick<StoredMail, "text" | "html">): string[] {
  const found = new Set<string>();
  for (const source of [mail.text ?? "", mail.html ?? ""]) {
    for (const m of source.matchAll(/https?:\/\/[^\s"'<>]+/g)) found.add(m[0].replaceAll("&amp;", "&"));
  }
  return [...found];
}

function inboxPage(messages: StoredMail[], to: string | null): string {
  const rows = messages.slice().reverse().filter((m) => !to || m.to.includes(to)).slice(0, 200).map((m) =>
    `<tr><td>${escapeHtml(m.createdAt)}</td><td>${escapeHtml(m.to.join(", "))}</td>` +
    `<td><a href="/messages/${m.id}">${escapeHtml(m.subject)}</a></td></tr>`
  ).join("");
  return `<!doctype html><meta charset="utf-8"><title>Local inbox</title>` +
    `<h1>Local inbox</h1><p>Every mail the local stack sent, latest first.</p>` +
    `<table border="1" cellpadding="4"><tr><th>time</th><th>to</th><th>subject</th></tr>${rows}</table>`;
}

function messagePage(m: StoredMail): string {
  const links = linksOf(m).map((l) => `<li><a href="${escapeHtml(l)}">${escapeHtml(l)}</a></li>`).join("");
  return `<!doctype html><meta charset="utf-8"><title>${escapeHtml(m.subject)}</title>` +
    `<p><a href="/">inbox</a></p><h1>${escapeHtml(m.subject)}</h1>` +
    `<p>From: ${escapeHtml(m.from)}<br>To: ${escapeHtml(m.to.join(", "))}<br>${escapeHtml(m.createdAt)}</p>` +
    `<h2>Links</h2><ul>${links}</ul><h2>Text</h2><pre>${escapeHtml(m.text ?? "")}</pre>` +
    `<h2>HTML (as source)</h2><pre>${escapeHtml(m.html ?? "")}</pre>` +
    `<h2>Headers</h2><pre>${escapeHtml(JSON.stringify(m.headers, null, 2))}</pre>`;
}

export function startLocalMail(
  options: { port?: number; hostname?: string; domains?: string[]; keepMax?: number } = {},
): LocalMail {
  const hostname = options.hostname ?? "127.0.0.1";
  const domains = (options.domains ?? ["mail.accrue.test"]).map((d) => d.toLowerCase());
  const keepMax = options.keepMax ?? 20_000;
  const messages: StoredMail[] = [];
  const byId = new Map<string, StoredMail>();
  const stats = { accepted: 0, replayed: 0, rejected: 0, requests: 0 };
  const acceptedKeys = new Map<string, number>();
  const idempotency = new Map<string, { body: number; id: string; at: number }>();
  const faults: Fault[] = [];

  async function createEmail(req: Request): Promise<Response> {
    if (!/^Bearer re_\S+$/.test(req.headers.get("authorization") ?? "")) {
      return resendError(401, "missing_api_key", "Missing or invalid API key in the authorization header.");
    }
    const fault = faults.shift();
    if (fault) {
      return resendError(
        fault.status,
        fault.status === 429 ? "rate_limit_exceeded" : "internal_server_error",
        "injected",
        fault.headers,
      );
    }
    const raw = await req.text();
    if (raw.length > BODY_LIMIT_BYTES) return resendError(413, "validation_error", "Request too large.");
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw);
    } catch {
      return resendError(400, "validation_error", "Invalid JSON body.");
    }
    const key = req.headers.get("idempotency-key");
    if (key !== null) {
      if (key.length === 0 || key.length > 256) {
        return resendError(400, "invalid_idempotency_key", "The key must be between 1-256 chars.");
      }
      const earlier = idempotency.get(key);
      if (earlier && Date.now() - earlier.at < IDEMPOTENCY_TTL_MS) {
        if (earlier.body !== bodyHash(raw)) {
          return resendError(
            409,
            "invalid_idempotent_request",
            "Same idempotency key used with a different request payload.",
          );
        }
        stats.replayed++;
        return Response.json({ id: earlier.id });
      }
    }
    for (const field of ["from", "to", "subject"]) {
      if (body[field] === undefined || body[field] === null || body[field] === "") {
        return resendError(422, "missing_required_field", `The \`${field}\` field is missing.`);
      }
    }
    if (typeof body.html !== "string" && typeof body.text !== "string") {
      return resendError(422, "missing_required_field", "Either `html` or `text` must be provided.");
    }
    const from = String(body.from);
    const fromAddress = addressOf(from);
    const domain = fromAddress.split("@")[1]?.toLowerCase() ?? "";
    if (!EMAIL.test(fromAddress)) return resendError(422, "validation_error", "Invalid `from` field.");
    if (!domains.includes(domain)) {
      return resendError(
        403,
        "validation_error",
        `The ${domain} domain is not verified. Please, add and verify your domain.`,
      );
    }
    const to = (Array.isArray(body.to) ? body.to : [body.to]).map(String);
    if (to.length === 0 || to.length > 50 || !to.every((t) => EMAIL.test(addressOf(t)))) {
      return resendError(422, "validation_error", "Invalid `to` field.");
    }
    const mail: StoredMail = {
      id: crypto.randomUUID(),
      from,
      to: to.map(addressOf),
      subject: String(body.subject),
      text: typeof body.text === "string" ? body.text : null,
      html: typeof body.html === "string" ? body.html : null,
      headers: (body.headers ?? {}) as Record<string, string>,
      tags: (body.tags ?? []) as { name: string; value: string }[],
      idempotencyKey: key,
      createdAt: new Date().toISOString(),
    };
    stats.accepted++;
    if (key !== null) {
      idempotency.set(key, { body: bodyHash(raw), id: mail.id, at: Date.now() });
      acceptedKeys.set(key, (acceptedKeys.get(key) ?? 0) + 1);
    }
    messages.push(mail);
    byId.set(mail.id, mail);
    if (messages.length > keepMax) byId.delete(messages.shift()!.id);
    return Response.json({ id: mail.id });
  }

  const server = Deno.serve({ hostname, port: options.port ?? 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    if (req.method === "POST" && url.pathname === "/emails") {
      stats.requests++;
      const response = await createEmail(req);
      if (response.status >= 400) stats.rejected++;
      return response;
    }
    if (req.method === "GET" && url.pathname === "/api/messages") {
      const to = url.searchParams.get("to")?.toLowerCase() ?? null;
      const limit = Math.min(Number(url.searchParams.get("limit") ?? 20) || 20, 1000);
      const found = messages.slice().reverse().filter((m) => !to || m.to.includes(to)).slice(0, limit);
      return Response.json(found.map((m) => ({ ...m, links: linksOf(m) })));
    }
    if (req.method === "GET" && url.pathname === "/api/stats") {
      let duplicates = 0;
      for (const n of acceptedKeys.values()) if (n > 1) duplicates += n - 1;
      return Response.json({ ...stats, distinctKeys: acceptedKeys.size, duplicates });
    }
    if (req.method === "DELETE" && url.pathname === "/api/messages") {
      clear();
      return new Response(null, { status: 204 });
    }
    const one = /^\/messages\/([0-9a-f-]{36})$/.exec(url.pathname);
    if (req.method === "GET" && one) {
      const m = byId.get(one[1]!);
      return m
        ? new Response(messagePage(m), { headers: { "Content-Type": "text/html; charset=utf-8" } })
        : new Response("not found", { status: 404 });
    }
    if (req.method === "GET" && url.pathname === "/") {
      return new Response(inboxPage(messages, url.searchParams.get("to")), {
        headers: { "Content-Type": "text/html; charset=utf-8" },
      });
    }
    return resendError(404, "not_found", "The requested endpoint does not exist.");
  });

  function clear() {
    messages.length = 0;
    byId.clear();
    acceptedKeys.clear();
    idempotency.clear();
    Object.assign(stats, { accepted: 0, replayed: 0, rejected: 0, requests: 0 });
  }

  const port = (server.addr as Deno.NetAddr).port;
  return {
    url: `http://${hostname}:${port}`,
    port,
    messages,
    stats,
    acceptedKeys,
    faults,
    clear,
    close: () => server.shutdown(),
  };
}

if (import.meta.main) {
  const port = Number(Deno.env.get("MAIL_PORT") ?? 54324);
  const domains = (Deno.env.get("LOCAL_MAIL_DOMAINS") ?? "mail.accrue.test").split(",").map((d) => d.trim());
  const keepMax = Number(Deno.env.get("LOCAL_MAIL_KEEP") ?? 20_000);
  const mail = startLocalMail({ port, domains, keepMax });
  console.log(`local mail (Resend-compatible) on ${mail.url}: inbox page at /, API at /emails`);
}
