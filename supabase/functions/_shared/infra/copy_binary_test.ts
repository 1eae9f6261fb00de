// The binary COPY reader: rows counted from the framing, the first column passed on byte for byte (line
// breaks, tabs, backslashes and quotes included, which the text and CSV formats would escape), the last
// tag kept, whatever the chunk boundaries; then the same against a real COPY.
import assert from "node:assert/strict";
import { createSql } from "./db.ts";
import { CopyBinaryDecoder, readCopyBinary } from "./copy_binary.ts";
import { DATABASE_URL } from "../../../../tests/support.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The bytes Postgres sends for rows of (text, text or null). */
function copyBytes(rows: [string | null, string | null][]): Uint8Array {
  const parts: number[] = [
    0x50,
    0x47,
    0x43,
    0x4f,
    0x50,
    0x59,
    0x0a,
    0xff,
    0x0d,
    0x0a,
    0x00,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ];
  const int32 = (n: number) => parts.push((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
  for (const [line, tag] of rows) {
    parts.push(0, 2);
    for (const field of [line, tag]) {
      if (field === null) {
        int32(-1);
        continue;
      }
      const bytes = encoder.encode(field);
      int32(bytes.length);
      parts.push(...bytes);
    }
  }
  parts.push(0xff, 0xff);
  return new Uint8Array(parts);
}

const ROWS: [string | null, string | null][] = [
  ["1,plain\r\n", null],
  ['2,"two\r\nlines","say ""hi""",\\back\tslash,ünïcödé\r\n', null],
  ["", null],
  ["4,last\r\n", '["2026-06-01T00:00:00.000001Z",4]'],
  [null, null], // more rows follow: a tuple, not a line
];

Deno.test("rows, bytes and the last tag come out the same whatever the chunk boundaries", () => {
  const bytes = copyBytes(ROWS);
  const expected = ROWS.map(([line]) => line ?? "").join("");
  for (let size = 1; size <= bytes.length; size++) {
    const decoderOf = new CopyBinaryDecoder();
    for (let at = 0; at < bytes.length; at += size) decoderOf.push(bytes.subarray(at, at + size));
    const result = decoderOf.finish();
    assert.equal(result.rows, 4, `chunks of ${size}`);
    assert.equal(result.tuples, 5, `chunks of ${size}`);
    assert.equal(result.pieces.map((p) => decoder.decode(p)).join(""), expected, `chunks of ${size}`);
    assert.equal(result.lastTag, '["2026-06-01T00:00:00.000001Z",4]');
  }
});

Deno.test("data cut inside a row, a wrong signature or column count is an error, not a short export", () => {
  const bytes = copyBytes(ROWS);
  const cut = new CopyBinaryDecoder();
  cut.push(bytes.subarray(0, bytes.length - 5));
  assert.throws(() => cut.finish(), /ended inside a row/);
  const bad = bytes.slice();
  bad[0] = 0x51;
  assert.throws(() => new CopyBinaryDecoder().push(bad), /signature/);
  const three = bytes.slice();
  three[20] = 3;
  assert.throws(() => new CopyBinaryDecoder().push(three), /expected 2 columns/);
});

Deno.test("a real binary COPY: the text of each row as Postgres has it, rows counted, the tag kept", async () => {
  const sql = createSql(DATABASE_URL, 1);
  try {
    const copy = await readCopyBinary(
      await sql.unsafe(`copy (
        select concat(n, ',', money.csv_field(E'=x\\r\\n\\t\\\\"' || n), E'\\r\\n'), case when n = 5000 then n::text end
        from generate_series(1, 5000) n order by n) to stdout with (format binary)`).readable(),
    );
    assert.equal(copy.rows, 5000);
    assert.equal(copy.tuples, 5000);
    assert.equal(copy.lastTag, "5000");
    const text = copy.pieces.map((p) => decoder.decode(p)).join("");
    assert.ok(copy.pieces.length > 1, "more than one 64 KiB piece");
    assert.ok(text.startsWith('1,"\'=x\r\n\t\\""1"\r\n2,'), text.slice(0, 40));
    assert.ok(text.endsWith('5000,"\'=x\r\n\t\\""5000"\r\n'));
  } finally {
    await sql.end();
  }
});
