// The client's IP, for per-IP rate limits. It can only come from a header a proxy we trust sets:
// TRUSTED_IP_HEADER names it (default x-forwarded-for), TRUSTED_IP_HOP picks the entry of its
// comma-separated list, counted from the right: 1 (default) is the last entry, the one the proxy
// closest to us appended from the connection it saw; a client can write every entry left of it, so
// the leftmost one is never trusted by default. "first" remains for a proxy that replaces the header
// rather than appending to it; with an appending proxy it lets every client pick its own bucket.
// A missing or malformed value yields null: callers then share one "unknown" bucket.
import { isIP } from "node:net";

export type ClientIpConfig = { header: string; hop: "first" | number };

const MAX_HOP = 20;
/** The longest spelling of an address with a zone or port, with room to spare. */
const MAX_ENTRY_LENGTH = 64;

export function clientIpConfigFromEnv(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): ClientIpConfig {
  const header = (env("TRUSTED_IP_HEADER") ?? "x-forwarded-for").trim().toLowerCase();
  const rawHop = (env("TRUSTED_IP_HOP") ?? "1").trim();
  const hop = rawHop === "first" ? "first" : Number(rawHop);
  if (hop !== "first" && (!Number.isSafeInteger(hop) || hop < 1 || hop > MAX_HOP)) {
    throw new Error(`TRUSTED_IP_HOP: a count from the right (1-${MAX_HOP}) or "first", got ${rawHop}`);
  }
  return { header, hop };
}

export function clientIp(req: Request, config: ClientIpConfig): string | null {
  const value = req.headers.get(config.header);
  if (!value) return null;
  // Counted from the right: however many entries a client prepends, the proxies' entries stay put.
  const entries = value.split(",");
  const entry = config.hop === "first" ? entries[0] : entries[entries.length - config.hop];
  return entry === undefined ? null : normalizeIp(entry.trim());
}

/** The rate-limit bucket of a client: an IPv4 address, or the /64 an IPv6 address is in (one
 * subscriber usually holds a whole /64, so per-address buckets would give them 2^64 of them). */
export function clientIpBucket(req: Request, config: ClientIpConfig): string | null {
  const ip = clientIp(req, config);
  return ip === null ? null : ipBucket(ip);
}

export function ipBucket(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  return `${ip.split(":").slice(0, 4).join(":")}::/64`;
}

/** A valid address in one spelling per address: IPv4 dotted; IPv6 as eight lower-case groups without
 * leading zeros; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as its IPv4 address. Anything else,
 * null. Ports and brackets some proxies add ("[2001:db8::1]:443", "203.0.113.7:443") are dropped. */
export function normalizeIp(raw: string): string | null {
  if (raw.length === 0 || raw.length > MAX_ENTRY_LENGTH) return null;
  const bare = raw.replace(/^\[([^\]]+)\](?::\d+)?$/, "$1").replace(/^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/, "$1")
    .replace(/%[\w.-]+$/, ""); // an IPv6 zone ("fe80::1%eth0") names our interface, not the client
  const version = isIP(bare);
  if (version === 4) return bare;
  if (version !== 6) return null;
  const groups = ipv6Groups(bare.toLowerCase());
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi, lo] = [groups[6]!, groups[7]!];
    return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join(".");
  }
  return groups.map((g) => g.toString(16)).join(":");
}

/** The eight 16-bit groups of a valid IPv6 address (isIP checked it), "::" and a dotted tail expanded. */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}
