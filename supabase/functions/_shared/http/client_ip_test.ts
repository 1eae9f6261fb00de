import assert from "node:assert/strict";
import { clientIp, clientIpConfigFromEnv, rememberPeerAddress } from "./client_ip.ts";

const req = (headers: Record<string, string>) => new Request("http://x/", { headers });

Deno.test("the first x-forwarded-for entry by default", () => {
  const config = clientIpConfigFromEnv(() => undefined);
  assert.equal(clientIp(req({ "x-forwarded-for": "203.0.113.7, 10.0.0.1" }), config), "203.0.113.7");
  assert.equal(clientIp(req({ "x-forwarded-for": "2001:DB8::1" }), config), "2001:db8::1");
  assert.equal(clientIp(req({ "x-forwarded-for": "[2001:db8::1]:443" }), config), "2001:db8::1");
  assert.equal(clientIp(req({ "x-forwarded-for": "203.0.113.7:8080" }), config), "203.0.113.7");
});

Deno.test("a count from the right picks the entry the nearest proxy appended", () => {
  const config = clientIpConfigFromEnv((n) => ({ TRUSTED_IP_HOP: "1" } as Record<string, string>)[n]);
  assert.equal(clientIp(req({ "x-forwarded-for": "6.6.6.6, 203.0.113.7" }), config), "203.0.113.7");
});

Deno.test("another trusted header can be configured", () => {
  const config = clientIpConfigFromEnv((n) =>
    ({ TRUSTED_IP_HEADER: "CF-Connecting-IP" } as Record<string, string>)[n]
  );
  assert.equal(
    clientIp(req({ "cf-connecting-ip": "198.51.100.2", "x-forwarded-for": "6.6.6.6" }), config),
    "198.51.100.2",
  );
});

Deno.test("missing or malformed values are null, never a key chosen by the client", () => {
  const config = clientIpConfigFromEnv(() => undefined);
  assert.equal(clientIp(req({}), config), null);
  for (const value of ["", "unknown", "' OR 1=1 --", "999.1.1.1", "x".repeat(10_000)]) {
    assert.equal(clientIp(req({ "x-forwarded-for": value }), config), null, value.slice(0, 20));
  }
});

Deno.test("a bad hop setting is a configuration error", () => {
  assert.throws(() => clientIpConfigFromEnv((n) => (n === "TRUSTED_IP_HOP" ? "0" : undefined)));
});

Deno.test("without the header, the address the local gateway saw is used; the header wins when present", () => {
  const config = { header: "x-forwarded-for", hop: "first" as const };
  const bare = new Request("http://localhost/");
  rememberPeerAddress(bare, "127.0.0.1");
  assert.equal(clientIp(bare, config), "127.0.0.1");
  const proxied = new Request("http://localhost/", { headers: { "x-forwarded-for": "203.0.113.9" } });
  rememberPeerAddress(proxied, "127.0.0.1");
  assert.equal(clientIp(proxied, config), "203.0.113.9");
  assert.equal(clientIp(new Request("http://localhost/"), config), null);
});
