// A multipart/form-data parser (RFC 7578) over one body buffer: each part's content is a view into that
// buffer, never a copy, so an upload is held in memory once (Request.formData() holds it three or four
// times: the body, the parser's copies, each File, and its arrayBuffer()). Anything it does not
// understand is null, which the caller answers with 400.

export type FormPart = {
  name: string;
  /** Present (possibly "") when the part is a file. */
  filename: string | null;
  /** A view into the body. */
  content: Uint8Array;
};

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;
/** RFC 2046 boundary: 1 to 70 of these characters, not ending in a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,./:=? -]{0,69}[0-9A-Za-z'()+_,./:=?-]$/;
const HEADER_BLOCK_BYTES_MAX = 8 * 1024;
const encoder = new TextEncoder();

/** The boundary parameter of a multipart/form-data Content-Type, or null. */
export function boundaryOf(contentType: string): string | null {
  const match = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2] ?? "";
  return BOUNDARY.test(boundary) ? boundary : null;
}

export function parseMultipart(body: Uint8Array, boundary: string, partsMax: number): FormPart[] | null {
  // Every delimiter but a first one at offset 0 is CRLF "--" boundary. A boundary has no CR, so a
  // search that jumps from one CR to the next and compares at most the delimiter's length there reads
  // each byte at most twice, whatever the client put in the body: linear time, no backtracking.
  const delimiter = encoder.encode(`\r\n--${boundary}`);
  const find = (from: number): number => {
    for (let at = body.indexOf(CR, from); at !== -1; at = body.indexOf(CR, at + 1)) {
      if (startsWith(body, delimiter, at)) return at;
    }
    return -1;
  };
  let at = startsWith(body, delimiter.subarray(2), 0) ? -2 : find(0);
  if (at === -1) return null;
  const parts: FormPart[] = [];
  for (;;) {
    let cursor = at + delimiter.length;
    if (body[cursor] === DASH && body[cursor + 1] === DASH) return parts; // the close delimiter
    while (body[cursor] === 0x20 || body[cursor] === 0x09) cursor++; // transport padding
    if (body[cursor] !== CR || body[cursor + 1] !== LF) return null;
    cursor += 2;
    const headersEnd = indexOfBlankLine(body, cursor);
    if (headersEnd === -1) return null;
    const disposition = contentDisposition(body.subarray(cursor, headersEnd));
    if (disposition === null || parts.length === partsMax) return null;
    const contentStart = headersEnd + 4;
    const next = find(contentStart);
    if (next === -1) return null;
    parts.push({ ...disposition, content: body.subarray(contentStart, next) });
    at = next;
  }
}

function startsWith(body: Uint8Array, prefix: Uint8Array, at: number): boolean {
  if (at < 0 || at + prefix.length > body.length) return false;
  for (let i = 0; i < prefix.length; i++) if (body[at + i] !== prefix[i]) return false;
  return true;
}

/** Where the CRLF CRLF ending a header block starts (the block may be empty), within a bounded size. */
function indexOfBlankLine(body: Uint8Array, from: number): number {
  if (body[from] === CR && body[from + 1] === LF) return from - 2;
  const limit = Math.min(body.length - 3, from + HEADER_BLOCK_BYTES_MAX);
  for (let at = body.indexOf(CR, from); at !== -1 && at < limit; at = body.indexOf(CR, at + 1)) {
    if (body[at + 1] === LF && body[at + 2] === CR && body[at + 3] === LF) return at;
  }
  return -1;
}

/** name and filename from the part's Content-Disposition: form-data header; other headers are ignored. */
function contentDisposition(block: Uint8Array): { name: string; filename: string | null } | null {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(block);
  } catch {
    return null;
  }
  const header = text.split("\r\n").find((line) => /^content-disposition\s*:/i.test(line));
  if (!header) return null;
  const value = header.slice(header.indexOf(":") + 1).trim();
  if (!/^form-data\s*(;|$)/i.test(value)) return null;
  const params = new Map<string, string>();
  for (
    const match of value.matchAll(/;\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)/g)
  ) {
    const raw = match[2]!;
    const unquoted = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw;
    params.set(match[1]!.toLowerCase(), unquoted);
  }
  const name = params.get("name");
  if (name === undefined) return null;
  return { name, filename: params.get("filename") ?? null };
}
