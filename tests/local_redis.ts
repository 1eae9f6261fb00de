// A throwaway redis-server on a free port, plus the Upstash proxy in front of it, for tests that
// must stop and restart Redis without touching the shared local stack.
import { Redis } from "@upstash/redis";
import { createUpstashProxy } from "../devstack/upstash_proxy.ts";

export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function startRedis(port: number): Promise<Deno.ChildProcess> {
  const child = new Deno.Command("redis-server", {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitFor(async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  }, `redis-server on ${port}`);
  return child;
}

export async function stopRedis(child: Deno.ChildProcess): Promise<void> {
  child.kill("SIGTERM");
  await child.status;
}

/** Redis behind our Upstash proxy, both owned by the test; `restart()` brings Redis back on the same port. */
export async function ownRedis() {
  const port = freePort();
  let process = await startRedis(port);
  const token = "test-token";
  const proxy = createUpstashProxy({ redisUrl: `redis://127.0.0.1:${port}`, token });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, proxy.handler);
  const url = `http://127.0.0.1:${server.addr.port}`;
  let running = true;
  return {
    url,
    token,
    client: (options: { enableAutoPipelining?: boolean } = {}) =>
      new Redis({ url, token, enableTelemetry: false, retry: { retries: 0 }, ...options }),
    stop: async () => {
      if (running) await stopRedis(process);
      running = false;
    },
    restart: async () => {
      if (!running) process = await startRedis(port);
      running = true;
    },
    close: async () => {
      if (running) await stopRedis(process);
      running = false;
      await proxy.close();
      await server.shutdown();
    },
  };
}

/** A Redis that is really down: an Upstash client pointed at a port nothing listens on. */
export function deadRedis(): Redis {
  return new Redis({
    url: `http://127.0.0.1:${freePort()}`,
    token: "x",
    retry: { retries: 0 },
    enableTelemetry: false,
  });
}
