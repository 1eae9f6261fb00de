import assert from "node:assert/strict";
import { clientIp, clientIpBucket, clientIpConfigFromEnv, ipBucket, normalizeIp } from "./client_ip.ts";

const req = (headers: Record<string, string>) => new Request("http://x/", { headers });
const fromEnv = (vars: Record<string, string>) => clientIpConfigFromEnv((n) => vars[n]);

Deno.test("by default the last x-forwarded-for entry, the one the trusted proxy appended", () => {
  const config = clientIpConfigFromEnv(() => undefined);
  assert.deepEqual(config, { header: "x-forwarded-for", hop: 1 });
  assert.equal(clientIp(req({ "x-forwarded-for": "6.6.6.6, 203.0.113.7" }), config), "203.0.113.7");
  assert.equal(clientIp(req({ "x-forwarded-for": "203.0.113.7" }), config), "203.0.113.7");
});

Deno.test("however many entries a client prepends, the count from the right stays on the proxy's", () => {
  const forged = Array.from({ length: 50 }, (_, i) => `198.51.100.${i}`).join(", ");
  const value = `${forged}, 203.0.113.7, 10.0.0.1`;
  assert.equal(clientIp(req({ "x-forwarded-for": value }), fromEnv({})), "10.0.0.1");
  assert.equal(clientIp(req({ "x-forwarded-for": value }), fromEnv({ TRUSTED_IP_HOP: "2" })), "203.0.113.7");
  // Fewer entries than hops: no address, not the leftmost one.
  assert.equal(clientIp(req({ "x-forwarded-for": "203.0.113.7" }), fromEnv({ TRUSTED_IP_HOP: "2" })), null);
});

Deno.test('"first" is still there for a proxy that replaces the header', () => {
  const config = fromEnv({ TRUSTED_IP_HOP: "first" });
  assert.equal(clientIp(req({ "x-forwarded-for": "203.0.113.7, 10.0.0.1" }), config), "203.0.113.7");
});

Deno.test("another trusted header can be configured", () => {
  const config = fromEnv({ TRUSTED_IP_HEADER: "CF-Connecting-IP" });
  assert.equal(
    clientIp(req({ "cf-connecting-ip": "198.51.100.2", "x-forwarded-for": "6.6.6.6" }), config),
    "198.51.100.2",
  );
});

Deno.test("addresses have one spelling: IPv6 expanded and lower case, IPv4-mapped as IPv4, ports dropped", () => {
  assert.equal(normalizeIp("2001:DB8::1"), "2001:db8:0:0:0:0:0:1");
  assert.equal(normalizeIp("2001:0db8:0000:0000:0000:0000:0000:0001"), "2001:db8:0:0:0:0:0:1");
  assert.equal(normalizeIp("[2001:db8::1]:443"), "2001:db8:0:0:0:0:0:1");
  assert.equal(normalizeIp("fe80::1%eth0"), "fe80:0:0:0:0:0:0:1");
  assert.equal(normalizeIp("::"), "0:0:0:0:0:0:0:0");
  assert.equal(normalizeIp("::ffff:203.0.113.7"), "203.0.113.7");
  assert.equal(normalizeIp("::FFFF:cb00:7107"), "203.0.113.7");
  assert.equal(normalizeIp("[::ffff:203.0.113.7]:80"), "203.0.113.7");
  assert.equal(normalizeIp("203.0.113.7:8080"), "203.0.113.7");
  assert.equal(normalizeIp("64:ff9b::203.0.113.7"), "64:ff9b:0:0:0:0:cb00:7107");
});

Deno.test("IPv6 clients are bucketed by /64; IPv4 clients by address", () => {
  const config = fromEnv({});
  const bucket = (ip: string) => clientIpBucket(req({ "x-forwarded-for": ip }), config);
  assert.equal(bucket("2001:db8:1:2::1"), "2001:db8:1:2::/64");
  assert.equal(bucket("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
  assert.equal(bucket("[2001:0DB8:0001:0002::abcd]:443"), "2001:db8:1:2::/64");
  assert.notEqual(bucket("2001:db8:1:3::1"), bucket("2001:db8:1:2::1"));
  assert.equal(bucket("::ffff:203.0.113.7"), "203.0.113.7");
  assert.equal(bucket("203.0.113.7"), "203.0.113.7");
  assert.notEqual(bucket("203.0.113.8"), bucket("203.0.113.7"));
  assert.equal(ipBucket("0:0:0:0:0:0:0:1"), "0:0:0:0::/64");
});

Deno.test("missing or malformed values are null, never a key chosen by the client", () => {
  const config = clientIpConfigFromEnv(() => undefined);
  assert.equal(clientIp(req({}), config), null);
  for (
    const value of [
      "",
      "unknown",
      "' OR 1=1 --",
      "999.1.1.1",
      "x".repeat(10_000),
      "1.2.3.4, ",
      "1:2:3:4:5:6:7:8:9",
    ]
  ) {
    assert.equal(clientIp(req({ "x-forwarded-for": value }), config), null, value.slice(0, 20));
  }
});

Deno.test("a bad hop setting is a configuration error", () => {
  for (const hop of ["0", "-1", "1.5", "21", "last"]) {
    assert.throws(() => fromEnv({ TRUSTED_IP_HOP: hop }), hop);
  }
});
