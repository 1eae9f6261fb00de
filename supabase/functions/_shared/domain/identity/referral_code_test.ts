import assert from "node:assert/strict";
import {
  generateReferralCode,
  isReferralCode,
  normalizeReferralCode,
  REFERRAL_CODE_ALPHABET,
  REFERRAL_CODE_LENGTH,
  referralCodeSchema,
} from "./referral_code.ts";

Deno.test("generated codes are 8 symbols from the unambiguous alphabet", () => {
  for (let i = 0; i < 1000; i++) {
    const code = generateReferralCode();
    assert.equal(code.length, REFERRAL_CODE_LENGTH);
    assert.ok(isReferralCode(code), code);
    assert.doesNotMatch(code, /[01ILOU]/);
  }
});

Deno.test("the alphabet has no look-alike symbols", () => {
  for (const ambiguous of "01ILOU") assert.ok(!REFERRAL_CODE_ALPHABET.includes(ambiguous));
  assert.equal(new Set(REFERRAL_CODE_ALPHABET).size, REFERRAL_CODE_ALPHABET.length);
});

Deno.test("generation skips biased bytes and never emits a symbol outside the alphabet", () => {
  const allHigh = (n: number) => new Uint8Array(n).fill(255);
  assert.throws(() => generateReferralCode(allHigh));
  let calls = 0;
  const zeroes = (n: number) => {
    calls++;
    return new Uint8Array(n);
  };
  assert.equal(generateReferralCode(zeroes), "2".repeat(REFERRAL_CODE_LENGTH));
  assert.equal(calls, 1);
});

Deno.test("typed codes are normalised: case, spaces and dashes do not matter", () => {
  assert.equal(normalizeReferralCode(" abcd-2345 "), "ABCD2345");
  assert.equal(referralCodeSchema.parse("abcd 2345"), "ABCD2345");
});

Deno.test("malformed codes are refused", () => {
  for (const raw of ["", "ABC", "ABCD23450", "ABCD234O", "' OR 1=1 --", "x".repeat(10_000)]) {
    assert.equal(referralCodeSchema.safeParse(raw).success, false, raw.slice(0, 20));
  }
});
