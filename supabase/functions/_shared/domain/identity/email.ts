// Email addresses as account identifiers: normalised once, here, so "uniqueness" means one thing.
// Internationalised addresses (RFC 6531) are accepted. Normalisation is trim + Unicode NFC + lower case:
// two spellings a person would call "the same address" (mixed case, composed vs decomposed accents)
// map to one account. Lower-casing the local part is what every large provider does in practice.
import { z } from "zod";

export const EMAIL_LENGTH_MAX = 254;

// Local part: no whitespace, control/format characters, quotes or RFC 5322 specials (quoted local
// parts are legal but nobody needs them). Domain: dot-separated Unicode letter/digit labels, TLD of letters.
const EMAIL_PATTERN =
  /^[^\s@"(),:;<>[\\\]\p{Cc}\p{Cf}]{1,64}@(?:[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}-]{0,61}[\p{L}\p{M}\p{N}])?\.)+\p{L}[\p{L}\p{M}]{1,62}$/u;

export function normalizeEmail(raw: string): string {
  return raw.trim().normalize("NFC").toLowerCase();
}

export function isEmail(normalized: string): boolean {
  return normalized.length <= EMAIL_LENGTH_MAX && EMAIL_PATTERN.test(normalized);
}

/** Accepts any string, yields the normalised address; errors name the rule, never echo the input. */
export const emailSchema = z
  .string()
  .max(EMAIL_LENGTH_MAX * 4, "Too long.")
  .transform(normalizeEmail)
  .refine(isEmail, "Must be an email address of at most 254 characters.");
