import assert from "node:assert/strict";
import { applicantSchema, countrySchema, dateOfBirthSchema, fullNameSchema } from "./applicant.ts";
import { ISO_3166_ALPHA2 } from "./country_codes.ts";

const today = new Date("2026-11-22T12:00:00Z");

Deno.test("names are normalised and accept many scripts and the punctuation names carry", () => {
  assert.equal(fullNameSchema.parse("  Jean-Luc   O'Brien Jr. "), "Jean-Luc O'Brien Jr.");
  for (const name of ["José Álvarez", "Zoë", "王小明", "Ахмед Абдуллаев", "Nguyễn Thị Minh Khai"]) {
    assert.equal(fullNameSchema.safeParse(name).success, true, name);
  }
});

Deno.test("empty, numeric, markup and oversized names are refused", () => {
  for (
    const name of [
      "",
      "   ",
      "R2D2",
      "<script>",
      "a\u0000b",
      "x".repeat(201),
      "-Ann",
      "Robert'); drop table x;--",
    ]
  ) {
    assert.equal(fullNameSchema.safeParse(name).success, false, JSON.stringify(name).slice(0, 40));
  }
});

Deno.test("country codes: ISO 3166-1 alpha-2, upper-cased", () => {
  assert.equal(ISO_3166_ALPHA2.size, 249);
  assert.equal(countrySchema.parse("de"), "DE");
  for (const code of ["", "XX", "EU", "UK", "DEU", "D", "12"]) {
    assert.equal(countrySchema.safeParse(code).success, false, code);
  }
});

Deno.test("dates of birth: calendar dates, from 1900, at least 18 years ago", () => {
  const dob = dateOfBirthSchema(today);
  assert.equal(dob.safeParse("1990-02-28").success, true);
  assert.equal(dob.safeParse("2008-11-22").success, true, "18 today");
  assert.equal(dob.safeParse("2008-11-23").success, false, "18 tomorrow");
  for (
    const bad of [
      "1990-02-30",
      "1990-2-1",
      "22.11.1990",
      "1899-12-31",
      "2030-01-01",
      "1990-13-01",
      "1990-02-28T00:00",
    ]
  ) {
    assert.equal(dob.safeParse(bad).success, false, bad);
  }
});

Deno.test("someone born on 29 February is 18 on 1 March of a common year", () => {
  const dob = dateOfBirthSchema(new Date("2026-02-28T12:00:00Z"));
  assert.equal(dob.safeParse("2008-02-29").success, false);
  assert.equal(dateOfBirthSchema(new Date("2026-03-01T00:00:00Z")).safeParse("2008-02-29").success, true);
});

Deno.test("the applicant object refuses unknown fields", () => {
  const schema = applicantSchema(today);
  assert.equal(
    schema.safeParse({ fullName: "Ann Lee", dateOfBirth: "1990-01-01", country: "US" }).success,
    true,
  );
  assert.equal(
    schema.safeParse({ fullName: "Ann Lee", dateOfBirth: "1990-01-01", country: "US", x: 1 }).success,
    false,
  );
});
