// The local folder storage on a temporary folder, with an injected clock for link expiry.
import assert from "node:assert/strict";
import { DOCUMENT_LINK_TTL_SECONDS_MAX } from "./document_storage.ts";
import { LocalFolderStorage } from "./local_folder_storage.ts";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

async function setup() {
  const root = await Deno.makeTempDir({ prefix: "kyc-storage-" });
  let now = new Date("2026-11-22T10:00:00Z");
  const storage = new LocalFolderStorage({
    root,
    linkBaseUrl: "http://127.0.0.1:54321/functions/v1/kyc/documents",
    secret: "test-secret-for-document-links",
    now: () => now,
  });
  const open = (url: string) => {
    const parsed = new URL(url);
    const key = parsed.pathname.replace("/functions/v1/kyc/documents/", "").split("/").map(decodeURIComponent)
      .join("/");
    return storage.open(key, parsed.searchParams.get("expires"), parsed.searchParams.get("signature"));
  };
  return {
    root,
    storage,
    open,
    advance: (seconds: number) => (now = new Date(now.getTime() + seconds * 1000)),
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

Deno.test("a stored file opens through its link until the link expires", async () => {
  await using t = await setup();
  await t.storage.put("u1/c1/d1.png", PNG, "image/png");
  const link = await t.storage.link("u1/c1/d1.png", 600);
  assert.equal(link.expiresAt, "2026-11-22T10:10:00.000Z");
  assert.deepEqual(await t.open(link.url), { bytes: PNG, contentType: "image/png" });
  t.advance(599);
  assert.equal(typeof await t.open(link.url), "object");
  t.advance(1);
  assert.equal(await t.open(link.url), "expired");
});

Deno.test("a link opens only its own file: another key, a changed expiry or signature is invalid", async () => {
  await using t = await setup();
  await t.storage.put("u1/c1/d1.png", PNG, "image/png");
  await t.storage.put("u1/c1/d2.png", PNG, "image/png");
  const url = new URL((await t.storage.link("u1/c1/d1.png", 60)).url);
  const expires = url.searchParams.get("expires");
  const signature = url.searchParams.get("signature");
  assert.equal(await t.storage.open("u1/c1/d2.png", expires, signature), "invalid");
  assert.equal(await t.storage.open("u1/c1/d1.png", String(Number(expires) + 3600), signature), "invalid");
  assert.equal(await t.storage.open("u1/c1/d1.png", expires, "A".repeat(43)), "invalid");
  assert.equal(await t.storage.open("u1/c1/d1.png", expires, null), "invalid");
  assert.equal(await t.storage.open("../../etc/passwd", expires, signature), "invalid");
});

Deno.test("links live at most 30 minutes", async () => {
  await using t = await setup();
  await assert.rejects(t.storage.link("u1/c1/d1.png", DOCUMENT_LINK_TTL_SECONDS_MAX + 1), /TTL/);
  await assert.rejects(t.storage.link("u1/c1/d1.png", 0), /TTL/);
});

Deno.test("files are never overwritten, keys never leave the folder, removal tidies empty folders", async () => {
  await using t = await setup();
  await t.storage.put("u1/c1/d1.png", PNG, "image/png");
  await assert.rejects(t.storage.put("u1/c1/d1.png", PNG, "image/png"));
  await assert.rejects(t.storage.put("../escape.png", PNG, "image/png"), /invalid document key/);
  await assert.rejects(t.storage.put("u1/../../escape.png", PNG, "image/png"), /invalid document key/);
  await t.storage.remove(["u1/c1/d1.png", "u1/c1/missing.png"]);
  const left = [...Deno.readDirSync(t.storage.folder)];
  assert.deepEqual(left, [], "no user folder is left behind");
});
