// Password rules (NIST SP 800-63B): length only, 10 to 128 characters, no composition rules.
// Characters are Unicode code points after NFKC normalisation, so the same password typed on two
// keyboards (composed or decomposed accents, full-width digits) hashes the same.
import { z } from "zod";

export const PASSWORD_LENGTH_MIN = 10;
export const PASSWORD_LENGTH_MAX = 128;

export function normalizePassword(raw: string): string {
  return raw.normalize("NFKC");
}

export function passwordLength(normalized: string): number {
  return [...normalized].length;
}

export function isAcceptablePassword(normalized: string): boolean {
  const length = passwordLength(normalized);
  return length >= PASSWORD_LENGTH_MIN && length <= PASSWORD_LENGTH_MAX;
}

export const passwordSchema = z
  .string()
  // Bound the work before normalising: 4 UTF-16 units per code point is more than NFKC ever needs.
  .max(PASSWORD_LENGTH_MAX * 4, `Must be at most ${PASSWORD_LENGTH_MAX} characters.`)
  .transform(normalizePassword)
  .refine(
    isAcceptablePassword,
    `Must be ${PASSWORD_LENGTH_MIN} to ${PASSWORD_LENGTH_MAX} characters.`,
  );
