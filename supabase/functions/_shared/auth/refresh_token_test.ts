import assert from "node:assert/strict";
import { isRefreshTokenShape, newRefreshToken, refreshTokenSha256 } from "./refresh_token.ts";

Deno.test("refresh tokens are 256-bit, URL-safe and never repeat", () => {
  const tokens = new Set(Array.from({ length: 1000 }, newRefreshToken));
  assert.equal(tokens.size, 1000);
  for (const token of tokens) assert.ok(isRefreshTokenShape(token), token);
});

Deno.test("the stored form is the SHA-256 in hex", async () => {
  assert.equal(
    await refreshTokenSha256("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("anything else is not a refresh token", () => {
  for (const token of ["", "abc", "' OR 1=1 --", "x".repeat(10_000), `${newRefreshToken()}=`]) {
    assert.equal(isRefreshTokenShape(token), false);
  }
});
