import assert from "node:assert/strict";
import { emailSchema, isEmail, normalizeEmail } from "./email.ts";

Deno.test("normalizeEmail trims and lower-cases", () => {
  assert.equal(normalizeEmail("  Alice.Smith@Example.COM \n"), "alice.smith@example.com");
});

Deno.test("normalizeEmail makes composed and decomposed accents the same address", () => {
  const composed = "jos\u00e9@example.com";
  const decomposed = "jose\u0301@example.com";
  assert.notEqual(composed, decomposed);
  assert.equal(normalizeEmail(decomposed), normalizeEmail(composed));
  assert.equal(normalizeEmail("JOSE\u0301@EXAMPLE.COM"), composed);
});

Deno.test("international addresses are accepted", () => {
  for (
    const email of ["用户@例子.广告", "ünïcödé@bücher.de", "δοκιμή@παράδειγμα.δοκιμή", "a+tag@sub.example.io"]
  ) {
    assert.ok(isEmail(normalizeEmail(email)), email);
  }
});

Deno.test("malformed addresses, injection strings and oversized values are refused", () => {
  for (
    const email of [
      "",
      "plain",
      "@example.com",
      "a@",
      "a@b",
      "a b@example.com",
      "a@exa mple.com",
      "' OR '1'='1",
      "x'; drop table private.profiles; --@example.com",
      "a\u0000@example.com",
      "a\u200b@example.com",
      `${"a".repeat(65)}@example.com`,
      `a@${"b".repeat(250)}.com`,
      "x".repeat(10_000),
    ]
  ) {
    assert.equal(emailSchema.safeParse(email).success, false, JSON.stringify(email).slice(0, 60));
  }
});

Deno.test("emailSchema yields the normalised address", () => {
  assert.equal(emailSchema.parse(" Bob@Example.com "), "bob@example.com");
});
