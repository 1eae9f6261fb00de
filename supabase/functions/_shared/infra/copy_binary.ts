// Reads `COPY (query) TO STDOUT WITH (FORMAT binary)` of rows of two text columns, (bytes to pass on, an
// optional tag), as the bytes arrive. Binary because it is the one COPY format that sends text as it is:
// the text and CSV formats escape or quote a value holding CR, LF, tabs or backslashes, which would
// change the CSV lines Postgres wrote (money.csv_field). It also frames every row, so rows are counted
// exactly without looking inside them (a quoted field may hold a line break).
//
// Format (PostgreSQL docs, "COPY", Binary Format): an 11-byte signature, a 32-bit flags word and a 32-bit
// header extension length followed by that many bytes; then per row a 16-bit field count (-1 ends the
// data) and per field a 32-bit length (-1: null) followed by that many bytes. All integers big-endian.
import type { Readable } from "node:stream";

/** Where the first columns' bytes go: coalesced into pieces of this size, so the HTTP body is written in
 * few large chunks whatever the row size, and each incoming socket buffer is released at once. */
const OUT_PIECE_BYTES = 64 * 1024;
const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00];

export type CopyBinaryResult = {
  /** The first column of every row, concatenated, in pieces of at most OUT_PIECE_BYTES. */
  pieces: Uint8Array[];
  /** Rows whose first column is not null (the lines). */
  rows: number;
  /** All rows, those with a null first column too. */
  tuples: number;
  /** The second column of the last row that had one (null if none did), as text. */
  lastTag: string | null;
};

/** Collects the whole COPY (the caller bounds it with a LIMIT). Rejects on a stream error, which is how
 * postgres.js reports an error Postgres raised during the COPY. */
export function readCopyBinary(stream: Readable): Promise<CopyBinaryResult> {
  const decoder = new CopyBinaryDecoder();
  return new Promise((resolve, reject) => {
    stream.on("data", (chunk: Uint8Array) => {
      try {
        decoder.push(chunk);
      } catch (error) {
        stream.destroy(error as Error);
      }
    });
    stream.once("error", reject);
    stream.once("end", () => {
      try {
        resolve(decoder.finish());
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** A push parser: bytes in, in chunks split anywhere. Exported for its tests. */
export class CopyBinaryDecoder {
  #pieces: Uint8Array[] = [];
  #out = new Uint8Array(OUT_PIECE_BYTES);
  #outLength = 0;
  #rows = 0;
  #tuples = 0;
  #tag: number[] | null = null;
  #lastTag: string | null = null;
  /** Header bytes (signature, flags, extension length; then field counts and lengths) being gathered. */
  #want = 19;
  #have: number[] = [];
  #state: "header" | "extension" | "fieldCount" | "fieldLength" | "field" | "done" = "header";
  #fieldsLeft = 0;
  #field = 0;
  #bytesLeft = 0;

  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#state === "done") throw new Error("binary COPY: bytes after the end of the data");
      if (this.#state === "field") {
        const take = Math.min(this.#bytesLeft, chunk.length - at);
        this.#fieldBytes(chunk.subarray(at, at + take));
        at += take;
        this.#bytesLeft -= take;
        if (this.#bytesLeft === 0) this.#fieldDone();
        continue;
      }
      if (this.#state === "extension") {
        const take = Math.min(this.#bytesLeft, chunk.length - at);
        at += take;
        this.#bytesLeft -= take;
        if (this.#bytesLeft === 0) this.#expect("fieldCount", 2);
        continue;
      }
      while (this.#have.length < this.#want && at < chunk.length) this.#have.push(chunk[at++]!);
      if (this.#have.length === this.#want) this.#headerDone();
    }
  }

  finish(): CopyBinaryResult {
    if (this.#state !== "done") throw new Error("binary COPY: the data ended inside a row");
    if (this.#outLength > 0) this.#pieces.push(this.#out.subarray(0, this.#outLength));
    return { pieces: this.#pieces, rows: this.#rows, tuples: this.#tuples, lastTag: this.#lastTag };
  }

  #expect(state: "fieldCount" | "fieldLength", bytes: number) {
    this.#state = state;
    this.#want = bytes;
    this.#have = [];
  }

  #headerDone() {
    const h = this.#have;
    const int32 = (i: number) => (h[i]! << 24) | (h[i + 1]! << 16) | (h[i + 2]! << 8) | h[i + 3]!;
    switch (this.#state) {
      case "header":
        if (SIGNATURE.some((byte, i) => h[i] !== byte)) throw new Error("binary COPY: bad signature");
        this.#state = "extension";
        this.#bytesLeft = int32(15);
        if (this.#bytesLeft === 0) this.#expect("fieldCount", 2);
        return;
      case "fieldCount": {
        const count = (h[0]! << 24 >> 16) | h[1]!; // signed 16-bit
        if (count === -1) {
          this.#state = "done";
          return;
        }
        if (count !== 2) throw new Error(`binary COPY: expected 2 columns, got ${count}`);
        this.#tuples++;
        this.#fieldsLeft = 2;
        this.#field = 0;
        this.#expect("fieldLength", 4);
        return;
      }
      case "fieldLength": {
        const length = int32(0);
        if (this.#field === 0 && length !== -1) this.#rows++;
        if (this.#field === 1) this.#tag = length === -1 ? null : [];
        if (length <= 0) {
          this.#fieldDone();
          return;
        }
        this.#state = "field";
        this.#bytesLeft = length;
        return;
      }
    }
  }

  #fieldBytes(bytes: Uint8Array) {
    if (this.#field === 1) {
      for (const byte of bytes) this.#tag!.push(byte);
      return;
    }
    let at = 0;
    while (at < bytes.length) {
      const take = Math.min(OUT_PIECE_BYTES - this.#outLength, bytes.length - at);
      this.#out.set(bytes.subarray(at, at + take), this.#outLength);
      this.#outLength += take;
      at += take;
      if (this.#outLength === OUT_PIECE_BYTES) {
        this.#pieces.push(this.#out);
        this.#out = new Uint8Array(OUT_PIECE_BYTES);
        this.#outLength = 0;
      }
    }
  }

  #fieldDone() {
    if (this.#field === 1 && this.#tag !== null) {
      this.#lastTag = new TextDecoder().decode(new Uint8Array(this.#tag));
    }
    this.#field++;
    this.#fieldsLeft--;
    this.#expect(this.#fieldsLeft === 0 ? "fieldCount" : "fieldLength", this.#fieldsLeft === 0 ? 2 : 4);
  }
}
