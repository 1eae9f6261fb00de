import assert from "node:assert/strict";
import { uuidLiteral } from "./db.ts";

Deno.test("uuidLiteral quotes a canonical uuid and refuses anything else", () => {
  assert.equal(
    uuidLiteral("0b6f3f5e-2a1d-4c8e-9f00-1234567890ab"),
    "'0b6f3f5e-2a1d-4c8e-9f00-1234567890ab'::uuid",
  );
  assert.equal(
    uuidLiteral("0B6F3F5E-2A1D-4C8E-9F00-1234567890AB"),
    "'0B6F3F5E-2A1D-4C8E-9F00-1234567890AB'::uuid",
  );
  for (
    const bad of [
      "",
      "0b6f3f5e-2a1d-4c8e-9f00-1234567890ab' or '1'='1",
      "0b6f3f5e-2a1d-4c8e-9f00-1234567890ab\n",
      "0b6f3f5e2a1d4c8e9f001234567890ab",
      "{0b6f3f5e-2a1d-4c8e-9f00-1234567890ab}",
      "0b6f3f5e-2a1d-4c8e-9f00-1234567890ag",
    ]
  ) {
    assert.throws(() => uuidLiteral(bad), TypeError, JSON.stringify(bad));
  }
});
