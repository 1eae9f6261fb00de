// The identity fields of a KYC submission. They are personal data: validated here, stored only in
// private.kyc_applicants (erasable), never in an event.
import { z } from "zod";
import { ISO_3166_ALPHA2 } from "./country_codes.ts";

export const FULL_NAME_LENGTH_MAX = 200;
export const APPLICANT_AGE_YEARS_MIN = 18;
const BIRTH_YEAR_MIN = 1900;

// Letters (any script), marks, spaces, and the punctuation real names carry: O'Brien, Jean-Luc, Jr.
const FULL_NAME_PATTERN = /^[\p{L}\p{M}](?:[\p{L}\p{M} '’.,-]*[\p{L}\p{M}.])?$/u;

export const fullNameSchema = z
  .string()
  .max(FULL_NAME_LENGTH_MAX * 4, "Too long.")
  .transform((raw) => raw.normalize("NFC").trim().replace(/\s+/g, " "))
  .refine((name) => name.length >= 1, "Required.")
  .refine((name) => name.length <= FULL_NAME_LENGTH_MAX, `At most ${FULL_NAME_LENGTH_MAX} characters.`)
  .refine((name) => FULL_NAME_PATTERN.test(name), "Letters, spaces, apostrophes, hyphens and dots only.");

export const countrySchema = z
  .string()
  .max(8, "Too long.")
  .transform((raw) => raw.trim().toUpperCase())
  .refine((code) => ISO_3166_ALPHA2.has(code), "An ISO 3166-1 alpha-2 country code, like DE or US.");

/** YYYY-MM-DD, a real calendar date, from 1900 on, and at least 18 years before `today` (UTC). */
export function dateOfBirthSchema(today: Date) {
  return z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, "A date as YYYY-MM-DD.")
    .refine(isCalendarDate, "Not a calendar date.")
    .refine((date) => Number(date.slice(0, 4)) >= BIRTH_YEAR_MIN, `From ${BIRTH_YEAR_MIN} on.`)
    .refine(
      (date) => date <= latestBirthDateFor(today),
      `Applicants must be at least ${APPLICANT_AGE_YEARS_MIN} years old.`,
    );
}

function isCalendarDate(date: string): boolean {
  const parsed = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === date;
}

/** The latest birth date of someone who is 18 today (someone born on 29 February turns 18 on 1 March). */
function latestBirthDateFor(today: Date): string {
  const y = today.getUTCFullYear() - APPLICANT_AGE_YEARS_MIN;
  const latest = new Date(Date.UTC(y, today.getUTCMonth(), today.getUTCDate()));
  if (latest.getUTCMonth() !== today.getUTCMonth()) latest.setUTCDate(0);
  return latest.toISOString().slice(0, 10);
}

export function applicantSchema(today: Date) {
  return z.strictObject({
    fullName: fullNameSchema,
    dateOfBirth: dateOfBirthSchema(today),
    country: countrySchema,
  });
}

export type Applicant = z.infer<ReturnType<typeof applicantSchema>>;
