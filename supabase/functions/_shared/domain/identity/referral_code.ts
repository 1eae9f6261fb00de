// Referral codes: short, unambiguous when read aloud or typed from paper. Eight symbols from a
// 30-symbol alphabet without 0/O, 1/I/L and U (Crockford's reasoning), about 6.6e11 codes: a random
// collision is rare enough that the database's unique index plus a retry is all the coordination needed.
import { z } from "zod";

export const REFERRAL_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ";
export const REFERRAL_CODE_LENGTH = 8;
const REFERRAL_CODE_PATTERN = new RegExp(`^[${REFERRAL_CODE_ALPHABET}]{${REFERRAL_CODE_LENGTH}}$`);

/** Random code; `randomBytes` is injectable so tests can force a collision. */
export function generateReferralCode(
  randomBytes: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n)),
): string {
  const size = REFERRAL_CODE_ALPHABET.length;
  // Rejection sampling: bytes at or above the largest multiple of 30 would bias the first symbols.
  const unbiasedBelow = 256 - (256 % size);
  let code = "";
  for (let round = 0; round < 100 && code.length < REFERRAL_CODE_LENGTH; round++) {
    for (const byte of randomBytes(REFERRAL_CODE_LENGTH * 2)) {
      if (byte >= unbiasedBelow) continue;
      code += REFERRAL_CODE_ALPHABET[byte % size];
      if (code.length === REFERRAL_CODE_LENGTH) break;
    }
  }
  if (code.length !== REFERRAL_CODE_LENGTH) throw new Error("random source returned no usable bytes");
  return code;
}

/** What people type: any case, with spaces or dashes for readability ("abcd-2345"). */
export function normalizeReferralCode(raw: string): string {
  return raw.replace(/[\s-]/g, "").toUpperCase();
}

export function isReferralCode(normalized: string): boolean {
  return REFERRAL_CODE_PATTERN.test(normalized);
}

export const referralCodeSchema = z
  .string()
  .max(64, "Too long.")
  .transform(normalizeReferralCode)
  .refine(isReferralCode, `Must be ${REFERRAL_CODE_LENGTH} characters from ${REFERRAL_CODE_ALPHABET}.`);
