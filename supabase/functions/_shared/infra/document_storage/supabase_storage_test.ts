// SupabaseStorage against a fake of Supabase Storage's REST API (fake_supabase_storage.ts), checking
// the requests it sends: paths, service-role headers, no upsert, a private bucket, expiresIn.
import assert from "node:assert/strict";
import { startFakeSupabaseStorage } from "./fake_supabase_storage.ts";
import { DocumentStorageError } from "./document_storage.ts";
import { SupabaseStorage } from "./supabase_storage.ts";

const KEY = "service-role-key-for-tests";
const PDF = new TextEncoder().encode("%PDF-1.7\n...");

Deno.test("upload creates the private bucket on first use, then stores without upsert", async () => {
  const fake = startFakeSupabaseStorage(KEY);
  try {
    const storage = new SupabaseStorage({
      url: fake.url,
      serviceRoleKey: KEY,
      fileSizeBytesMax: 5 * 1024 * 1024,
    });
    await storage.put("u1/c1/d1.pdf", PDF, "application/pdf");
    assert.deepEqual(fake.requests.map((r) => `${r.method} ${r.path}`), [
      "POST /storage/v1/object/kyc-documents/u1/c1/d1.pdf",
      "POST /storage/v1/bucket",
      "POST /storage/v1/object/kyc-documents/u1/c1/d1.pdf",
    ]);
    const bucket = JSON.parse(new TextDecoder().decode(fake.requests[1]!.body));
    assert.deepEqual(bucket, {
      id: "kyc-documents",
      name: "kyc-documents",
      public: false,
      file_size_limit: 5 * 1024 * 1024,
      allowed_mime_types: ["image/jpeg", "image/png", "application/pdf"],
    });
    const upload = fake.requests[2]!;
    assert.equal(upload.headers.get("content-type"), "application/pdf");
    assert.equal(upload.headers.get("x-upsert"), "false");
    assert.equal(upload.headers.get("authorization"), `Bearer ${KEY}`);
    assert.deepEqual(upload.body, PDF);
    assert.deepEqual(fake.objects.get("kyc-documents/u1/c1/d1.pdf"), PDF);

    await storage.put("u1/c1/d2.pdf", PDF, "application/pdf");
    assert.equal(fake.requests.length, 4, "the bucket is created once");
    await assert.rejects(
      storage.put("u1/c1/d2.pdf", PDF, "application/pdf"),
      DocumentStorageError,
      "no overwrite",
    );
  } finally {
    await fake.close();
  }
});

Deno.test("links are Storage's signed URLs with the TTL we ask for", async () => {
  const fake = startFakeSupabaseStorage(KEY);
  try {
    const now = new Date("2026-11-22T10:00:00Z");
    const storage = new SupabaseStorage({
      url: fake.url,
      serviceRoleKey: KEY,
      fileSizeBytesMax: 1024,
      now: () => now,
    });
    await storage.put("u1/c1/d1.pdf", PDF, "application/pdf");
    const link = await storage.link("u1/c1/d1.pdf", 900);
    const sign = fake.requests.at(-1)!;
    assert.equal(`${sign.method} ${sign.path}`, "POST /storage/v1/object/sign/kyc-documents/u1/c1/d1.pdf");
    assert.deepEqual(JSON.parse(new TextDecoder().decode(sign.body)), { expiresIn: 900 });
    assert.equal(
      link.url,
      `${fake.url}/storage/v1/object/sign/kyc-documents/u1/c1/d1.pdf?token=fake.jwt.token`,
    );
    assert.equal(link.expiresAt, "2026-11-22T10:15:00.000Z");
    await assert.rejects(storage.link("u1/c1/d1.pdf", 1801), /TTL/);
  } finally {
    await fake.close();
  }
});

Deno.test("remove deletes by prefixes in one call", async () => {
  const fake = startFakeSupabaseStorage(KEY);
  try {
    const storage = new SupabaseStorage({ url: fake.url, serviceRoleKey: KEY, fileSizeBytesMax: 1024 });
    await storage.put("u1/c1/d1.pdf", PDF, "application/pdf");
    await storage.remove(["u1/c1/d1.pdf", "u1/c1/gone.pdf"]);
    const remove = fake.requests.at(-1)!;
    assert.equal(`${remove.method} ${remove.path}`, "DELETE /storage/v1/object/kyc-documents");
    assert.deepEqual(JSON.parse(new TextDecoder().decode(remove.body)), {
      prefixes: ["u1/c1/d1.pdf", "u1/c1/gone.pdf"],
    });
    assert.equal(fake.objects.size, 0);
  } finally {
    await fake.close();
  }
});

Deno.test("a wrong key or an unreachable Storage is a DocumentStorageError without details", async () => {
  const fake = startFakeSupabaseStorage(KEY);
  const wrong = new SupabaseStorage({ url: fake.url, serviceRoleKey: "wrong", fileSizeBytesMax: 1024 });
  await assert.rejects(wrong.put("u1/c1/d1.pdf", PDF, "application/pdf"), DocumentStorageError);
  await fake.close();
  const down = new SupabaseStorage({
    url: fake.url,
    serviceRoleKey: KEY,
    fileSizeBytesMax: 1024,
    timeoutMs: 500,
  });
  await assert.rejects(down.put("u1/c1/d1.pdf", PDF, "application/pdf"), DocumentStorageError);
});
