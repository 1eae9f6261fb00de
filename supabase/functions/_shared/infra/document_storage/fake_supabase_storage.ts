// A fake of Supabase Storage's REST API at the edge of the internet (we cannot reach the real one from
// tests): a local HTTP server that records every request and answers as Storage does for the calls
// SupabaseStorage makes. Tests assert on the requests it received.
export type ReceivedRequest = {
  method: string;
  path: string;
  headers: Headers;
  body: Uint8Array;
};

export type FakeSupabaseStorage = {
  url: string;
  requests: ReceivedRequest[];
  objects: Map<string, Uint8Array>;
  buckets: Set<string>;
  close(): Promise<void>;
};

export function startFakeSupabaseStorage(serviceRoleKey: string): FakeSupabaseStorage {
  const requests: ReceivedRequest[] = [];
  const objects = new Map<string, Uint8Array>();
  const buckets = new Set<string>();
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const body = new Uint8Array(await req.arrayBuffer());
    requests.push({ method: req.method, path: url.pathname, headers: req.headers, body });
    if (
      req.headers.get("authorization") !== `Bearer ${serviceRoleKey}` ||
      req.headers.get("apikey") !== serviceRoleKey
    ) {
      return json(400, { statusCode: "403", error: "Unauthorized", message: "invalid signature" });
    }
    const path = url.pathname.replace(/^\/storage\/v1/, "");
    let match: RegExpMatchArray | null;
    if (req.method === "POST" && path === "/bucket") {
      const { id } = JSON.parse(new TextDecoder().decode(body));
      if (buckets.has(id)) {
        return json(400, { statusCode: "409", error: "Duplicate", message: "The resource already exists" });
      }
      buckets.add(id);
      return json(200, { name: id });
    }
    if (req.method === "POST" && (match = path.match(/^\/object\/sign\/([^/]+)\/(.+)$/))) {
      const key = `${match[1]}/${decodeURIComponent(match[2]!)}`;
      if (!objects.has(key)) {
        return json(400, { statusCode: "404", error: "not_found", message: "Object not found" });
      }
      return json(200, { signedURL: `/object/sign/${match[1]}/${match[2]}?token=fake.jwt.token` });
    }
    if (req.method === "POST" && (match = path.match(/^\/object\/([^/]+)\/(.+)$/))) {
      if (!buckets.has(match[1]!)) {
        return json(400, { statusCode: "404", error: "Bucket not found", message: "Bucket not found" });
      }
      const key = `${match[1]}/${decodeURIComponent(match[2]!)}`;
      if (objects.has(key) && req.headers.get("x-upsert") !== "true") {
        return json(400, { statusCode: "409", error: "Duplicate", message: "The resource already exists" });
      }
      objects.set(key, body);
      return json(200, { Key: key });
    }
    if (req.method === "DELETE" && (match = path.match(/^\/object\/([^/]+)$/))) {
      const { prefixes } = JSON.parse(new TextDecoder().decode(body)) as { prefixes: string[] };
      for (const prefix of prefixes) objects.delete(`${match[1]}/${prefix}`);
      return json(200, prefixes.map((name) => ({ name })));
    }
    return json(400, { statusCode: "404", error: "not_found", message: "no such route" });
  });
  const { port } = server.addr as Deno.NetAddr;
  return { url: `http://127.0.0.1:${port}`, requests, objects, buckets, close: () => server.shutdown() };
}
