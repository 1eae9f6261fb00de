import assert from "node:assert/strict";
import { PASSWORD_LENGTH_MAX, PASSWORD_LENGTH_MIN, passwordSchema } from "./password.ts";

Deno.test("passwords of 10 to 128 characters are accepted", () => {
  assert.equal(passwordSchema.safeParse("a".repeat(PASSWORD_LENGTH_MIN)).success, true);
  assert.equal(passwordSchema.safeParse("a".repeat(PASSWORD_LENGTH_MAX)).success, true);
});

Deno.test("passwords shorter than 10 or longer than 128 characters are refused", () => {
  assert.equal(passwordSchema.safeParse("a".repeat(PASSWORD_LENGTH_MIN - 1)).success, false);
  assert.equal(passwordSchema.safeParse("a".repeat(PASSWORD_LENGTH_MAX + 1)).success, false);
  assert.equal(passwordSchema.safeParse("a".repeat(10_000)).success, false);
});

Deno.test("length counts code points, not UTF-16 units", () => {
  // Ten emoji are 20 UTF-16 units but ten characters.
  assert.equal(passwordSchema.safeParse("😀".repeat(10)).success, true);
  assert.equal(passwordSchema.safeParse("😀".repeat(9)).success, false);
  assert.equal(passwordSchema.safeParse("😀".repeat(128)).success, true);
});

Deno.test("the same password typed composed or decomposed normalises to one value", () => {
  assert.equal(passwordSchema.parse("pass\u00e9word12"), passwordSchema.parse("passe\u0301word12"));
});
