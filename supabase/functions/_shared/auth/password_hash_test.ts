import assert from "node:assert/strict";
import { hashPassword, needsRehash, SCRYPT_PARAMS, verifyPassword } from "./password_hash.ts";

// Cheap parameters keep the suite fast; the production parameters are covered by one test.
const cheap = { logN: 10, r: 8, p: 1 };

Deno.test("a hash verifies its password and no other", async () => {
  const stored = await hashPassword("correct horse battery", cheap);
  assert.match(stored, /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.equal(await verifyPassword("correct horse battery", stored), true);
  assert.equal(await verifyPassword("correct horse batterY", stored), false);
  assert.equal(await verifyPassword("", stored), false);
});

Deno.test("each hash has its own salt", async () => {
  const a = await hashPassword("same password here", cheap);
  const b = await hashPassword("same password here", cheap);
  assert.notEqual(a, b);
});

Deno.test("the production parameters round-trip and are what needsRehash expects", async () => {
  const stored = await hashPassword("correct horse battery");
  assert.ok(stored.startsWith(`$scrypt$ln=${SCRYPT_PARAMS.logN},r=${SCRYPT_PARAMS.r},p=${SCRYPT_PARAMS.p}$`));
  assert.equal(await verifyPassword("correct horse battery", stored), true);
  assert.equal(needsRehash(stored), false);
  assert.equal(needsRehash(await hashPassword("x", cheap)), true);
});

Deno.test("malformed or hostile stored hashes never verify", async () => {
  for (
    const stored of [
      "",
      "plaintext",
      "$scrypt$ln=30,r=8,p=1$AAAA$AAAA",
      "$scrypt$ln=10,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAA",
    ]
  ) {
    assert.equal(await verifyPassword("anything", stored), false, stored);
  }
});
