// The client's IP, for per-IP rate limits. It can only come from a header a proxy we trust sets:
// TRUSTED_IP_HEADER names it (default x-forwarded-for, which Supabase's edge sets with the client
// first), TRUSTED_IP_HOP picks the entry of a comma-separated list: "first" (default) or a count
// from the right ("1" = the last entry, appended by the proxy closest to us, which a client cannot
// forge). A missing or malformed value yields null: callers then share one "unknown" bucket.
import { isIP } from "node:net";

export type ClientIpConfig = { header: string; hop: "first" | number };

export function clientIpConfigFromEnv(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): ClientIpConfig {
  const header = (env("TRUSTED_IP_HEADER") ?? "x-forwarded-for").trim().toLowerCase();
  const rawHop = (env("TRUSTED_IP_HOP") ?? "first").trim();
  const hop = rawHop === "first" ? "first" : Number(rawHop);
  if (hop !== "first" && (!Number.isSafeInteger(hop) || hop < 1)) {
    throw new Error(`TRUSTED_IP_HOP: "first" or a positive count, got ${rawHop}`);
  }
  return { header, hop };
}

const MAX_ENTRIES = 20;

// The local gateway has no proxy in front of it: it records each connection's address here, and a
// request without the trusted header is attributed to that address (as Supabase's proxy would put it
// in the header). Production requests always carry the header, so this map stays empty there.
const peerAddresses = new WeakMap<Request, string>();

export function rememberPeerAddress(req: Request, address: string): void {
  peerAddresses.set(req, address);
}

export function clientIp(req: Request, config: ClientIpConfig): string | null {
  const value = req.headers.get(config.header) ?? peerAddresses.get(req);
  if (!value || value.length > 1024) return null;
  const entries = value.split(",", MAX_ENTRIES).map((s) => s.trim());
  const entry = config.hop === "first" ? entries[0] : entries[entries.length - config.hop];
  if (!entry) return null;
  // "[2001:db8::1]:443" and "203.0.113.7:443" forms appear behind some proxies.
  const bare = entry.replace(/^\[([^\]]+)\](?::\d+)?$/, "$1").replace(
    /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/,
    "$1",
  );
  return isIP(bare) ? bare.toLowerCase() : null;
}
