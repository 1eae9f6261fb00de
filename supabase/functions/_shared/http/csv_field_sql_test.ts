// Finance exports write CSV in Postgres (money.csv_field); users.csv writes it here (csvField). The two
// must agree on every text, so a spreadsheet treats both exports alike: compared on random texts built
// from the characters the rules are about, against the real local Postgres.
import assert from "node:assert/strict";
import { csvField } from "./csv.ts";
import { createSql } from "../infra/db.ts";
import { DATABASE_URL } from "../../../../tests/support.ts";

const sql = createSql(DATABASE_URL, 1);
const ALPHABET = ['"', ",", "\r", "\n", "\t", "=", "+", "-", "@", "'", " ", "a", "Z", "0", "é", "😀"];

/** A deterministic generator (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("money.csv_field writes every text exactly as csvField does", async () => {
  const next = random(11);
  const texts = ["", "plain", "=1+1", "-800", ' "quoted" ', "a,b", "\r", "\n", "\t=x"];
  for (let i = 0; i < 500; i++) {
    const length = Math.floor(next() * 6);
    texts.push(Array.from({ length }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]!).join(""));
  }
  const rows = await sql<{ field: string }[]>`
    select money.csv_field(t) as field from unnest(${texts}::text[]) with ordinality as u(t, i) order by i`;
  assert.deepEqual(rows.map((r) => r.field), texts.map(csvField));
  const [nullRow] = await sql<{ field: string }[]>`select money.csv_field(null) as field`;
  assert.equal(nullRow!.field, csvField(null));
});

globalThis.addEventListener("unload", () => void sql.end());
