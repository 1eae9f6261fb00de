import assert from "node:assert/strict";
import { sniffDocumentType } from "./document_type.ts";

const bytes = (...values: number[]) => new Uint8Array([...values, 0x00, 0x01]);

Deno.test("JPEG, PNG and PDF are recognised by their first bytes", () => {
  assert.equal(sniffDocumentType(bytes(0xff, 0xd8, 0xff, 0xe0)), "image/jpeg");
  assert.equal(sniffDocumentType(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)), "image/png");
  assert.equal(sniffDocumentType(new TextEncoder().encode("%PDF-1.7\n")), "application/pdf");
});

Deno.test("anything else is refused, whatever it claims to be", () => {
  const refused = [
    new Uint8Array(0),
    new TextEncoder().encode("GIF89a..."),
    new TextEncoder().encode("<svg xmlns='http://www.w3.org/2000/svg'/>"),
    new TextEncoder().encode("MZ executable"),
    new TextEncoder().encode(" %PDF-1.7"), // junk before the header
    new Uint8Array([0xff, 0xd8, 0xff]), // a header and nothing else
    new Uint8Array([0x89, 0x50, 0x4e, 0x47]), // a truncated PNG signature
  ];
  for (const file of refused) assert.equal(sniffDocumentType(file), null, String(file.slice(0, 8)));
});
