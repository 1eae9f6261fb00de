import assert from "node:assert/strict";
import { boundaryOf, parseMultipart } from "./multipart.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A body as Deno's own FormData serializer (what browsers and fetch send) writes it. */
async function serialized(form: FormData): Promise<{ body: Uint8Array; boundary: string }> {
  const response = new Response(form);
  const boundary = boundaryOf(response.headers.get("content-type")!);
  assert.ok(boundary);
  return { body: new Uint8Array(await response.arrayBuffer()), boundary };
}

const raw = (text: string) => encoder.encode(text.replaceAll("\n", "\r\n"));

Deno.test("what FormData sends parses back: names, file names, text and bytes, each a view into the body", async () => {
  // File content that looks like framing: CRs, CRLFs, dashes, even the start of a delimiter.
  const tricky = encoder.encode("\r\n--\r\r\n-\r\n--formdata\r\n\r\n--");
  const random = new Uint8Array(200_000);
  for (let at = 0; at < random.length; at += 65_536) crypto.getRandomValues(random.subarray(at, at + 65_536));
  const form = new FormData();
  form.append("fullName", "Zoë Ünal 山田");
  form.append("document", new Blob([tricky]), 'a "quoted"; name.png');
  form.append("document", new Blob([random]), "scan.pdf");
  form.append("document", new Blob([]), "empty.jpg");
  form.append("country", "");
  const { body, boundary } = await serialized(form);
  const parts = parseMultipart(body, boundary, 10);
  assert.ok(parts);
  assert.deepEqual(parts.map((p) => [p.name, p.filename]), [
    ["fullName", null],
    ["document", "a %22quoted%22; name.png"],
    ["document", "scan.pdf"],
    ["document", "empty.jpg"],
    ["country", null],
  ]);
  assert.equal(decoder.decode(parts[0]!.content), "Zoë Ünal 山田");
  assert.deepEqual(parts[1]!.content, tricky);
  assert.deepEqual(parts[2]!.content, random);
  assert.equal(parts[3]!.content.byteLength, 0);
  assert.equal(parts[4]!.content.byteLength, 0);
  for (const part of parts) assert.equal(part.content.buffer, body.buffer, "a view, not a copy");
});

Deno.test("preamble, epilogue, transport padding and quoted parameters are understood", () => {
  const body = raw(
    'preamble to ignore\n--b0undary  \nContent-Type: text/plain\ncontent-disposition: form-data; NAME=country\n\nDE\n--b0undary\nContent-Disposition: form-data; name="document"; filename="x\\"y.png"\n\n\x89PNG\n--b0undary--\nepilogue\n',
  );
  const parts = parseMultipart(body, "b0undary", 10);
  assert.ok(parts);
  assert.deepEqual(parts.map((p) => [p.name, p.filename, decoder.decode(p.content)]), [
    ["country", null, "DE"],
    ["document", 'x"y.png', "\x89PNG"],
  ]);
});

Deno.test("malformed bodies are null, never a partial form", () => {
  const part = '--b\nContent-Disposition: form-data; name="country"\n\nDE\n';
  const cases: [string, Uint8Array, number][] = [
    ["no delimiter at all", raw("garbage"), 10],
    ["no close delimiter", raw(part), 10],
    ["a part without Content-Disposition", raw("--b\nContent-Type: text/plain\n\nDE\n--b--"), 10],
    ["a part without headers", raw("--b\n\nDE\n--b--"), 10],
    ["not form-data", raw('--b\nContent-Disposition: attachment; name="x"\n\nDE\n--b--'), 10],
    ["no name", raw('--b\nContent-Disposition: form-data; filename="x"\n\nDE\n--b--'), 10],
    ["junk after a delimiter", raw('--bjunk\nContent-Disposition: form-data; name="x"\n\nDE\n--b--'), 10],
    ["headers never end", raw(`--b\nContent-Disposition: form-data; name="x"\nX: ${"y".repeat(9000)}\n`), 10],
    [
      "headers not UTF-8",
      new Uint8Array([...raw('--b\nContent-Disposition: form-data; name="'), 0xff, ...raw('"\n\nx\n--b--')]),
      10,
    ],
    ["more parts than allowed", raw(`${part}${part}${part}--b--`), 2],
  ];
  for (const [label, body, partsMax] of cases) assert.equal(parseMultipart(body, "b", partsMax), null, label);
  assert.equal(parseMultipart(raw(`${part}${part}--b--`), "b", 2)?.length, 2);
});

Deno.test("boundaries: quoted or not, RFC 2046 characters, 1 to 70 of them", () => {
  assert.equal(boundaryOf("multipart/form-data; boundary=abc"), "abc");
  assert.equal(boundaryOf('multipart/form-data; charset=utf-8; boundary="a b:c"'), "a b:c");
  assert.equal(boundaryOf("multipart/form-data;boundary=----formdata-deno-123"), "----formdata-deno-123");
  assert.equal(boundaryOf("multipart/form-data; boundary=" + "x".repeat(70)), "x".repeat(70));
  for (
    const bad of [
      "multipart/form-data",
      "multipart/form-data; boundary=",
      "multipart/form-data; boundary=" + "x".repeat(71),
      'multipart/form-data; boundary="ends with space "',
      'multipart/form-data; boundary="a\rb"',
      "multipart/form-data; boundary=a\u00e9",
    ]
  ) {
    assert.equal(boundaryOf(bad), null, bad);
  }
});
