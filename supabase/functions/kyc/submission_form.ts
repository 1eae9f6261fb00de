// Reading a KYC submission: multipart/form-data only (415), the body bounded by its declared length
// before any byte is read and counted while it streams in (413), held in memory once (files are views
// into it, hashed and stored from there), each file bounded (413), at least one and at most filesMax
// documents, each a JPEG, PNG or PDF by its magic bytes, and the three identity fields; anything else
// is 400 validation_failed. Nothing here touches storage or the database, so a refused request has
// stored nothing.
import { createHash } from "node:crypto";
import { type Applicant, applicantSchema } from "../_shared/domain/kyc/applicant.ts";
import { type DocumentContentType, sniffDocumentType } from "../_shared/domain/kyc/document_type.ts";
import { fieldErrors } from "../_shared/http/body.ts";
import { type FieldError, problems } from "../_shared/http/problem.ts";
import { boundaryOf, parseMultipart } from "./multipart.ts";
import { bodyBytesMax, type KycUploadLimits } from "./upload_limits.ts";

/** `bytes` is a view into the request's one body buffer. */
export type SubmittedFile = { bytes: Uint8Array; contentType: DocumentContentType; sha256: string };
export type Submission = { applicant: Applicant; files: SubmittedFile[] };
/** What the headers promise: the boundary, and the most bytes the body may take (its declared
 * Content-Length, or the body limit when it declares none). */
export type UploadHead = { boundary: string; bytesMax: number };

const TEXT_FIELDS = ["fullName", "dateOfBirth", "country"] as const;
const FILE_FIELD = "document";
/** The files, the text fields and room for unknown fields to be reported as such. */
const EXTRA_PARTS_MAX = 50;

/** Checks the headers before any byte of the body is read: 415 when not multipart/form-data with a
 * boundary, 413 when the declared length is over the limit. The body is cancelled on refusal. */
export async function readUploadHead(req: Request, limits: KycUploadLimits): Promise<UploadHead> {
  const contentType = req.headers.get("content-type") ?? "";
  const mediaType = contentType.split(";")[0]!.trim().toLowerCase();
  if (mediaType !== "multipart/form-data" || !/;\s*boundary\s*=/i.test(contentType)) {
    await req.body?.cancel();
    throw problems.unsupportedMediaType("multipart/form-data");
  }
  const boundary = boundaryOf(contentType);
  if (boundary === null) {
    await req.body?.cancel();
    throw problems.validation([{ path: "(body)", message: "Not a valid multipart/form-data boundary." }]);
  }
  const limit = bodyBytesMax(limits);
  const declared = req.headers.get("content-length");
  const declaredBytes = declared !== null && /^\d{1,15}$/.test(declared) ? Number(declared) : null;
  if (declaredBytes !== null && declaredBytes > limit) {
    await req.body?.cancel();
    throw problems.payloadTooLarge(limit);
  }
  return { boundary, bytesMax: declaredBytes ?? limit };
}

/** A request body in one buffer; `free` gives its memory back at once (the bytes are gone after it). */
export type UploadBody = { bytes: Uint8Array; free: () => void };

/** The body in one buffer of at most head.bytesMax bytes, counted while it streams in: a body that
 * goes past it is refused with 413 as soon as it does, whatever its headers said, and the rest is
 * never read. The buffer reserves address space up to that size and memory is committed only as bytes
 * arrive, so a small upload costs little and nothing is copied into a bigger buffer on the way; free()
 * shrinks it to nothing, so the memory is back before the next upload is admitted rather than whenever
 * the garbage collector gets to it (measured: otherwise a finished 25 MiB upload stayed resident). */
export async function readBody(req: Request, head: UploadHead, limits: KycUploadLimits): Promise<UploadBody> {
  const buffer = new ArrayBuffer(0, { maxByteLength: head.bytesMax });
  let size = 0;
  const append = (chunk: Uint8Array) => {
    const end = size + chunk.byteLength;
    if (end > head.bytesMax) throw problems.payloadTooLarge(bodyBytesMax(limits));
    if (end > buffer.byteLength) buffer.resize(Math.min(head.bytesMax, Math.max(end, buffer.byteLength * 2)));
    new Uint8Array(buffer, size, chunk.byteLength).set(chunk);
    size = end;
  };
  try {
    if (req.body) await eachChunk(req.body, append);
  } catch (error) {
    buffer.resize(0);
    throw error;
  }
  return { bytes: new Uint8Array(buffer, 0, size), free: () => buffer.resize(0) };
}

const SCRATCH_BYTES = 64 * 1024;

/** Hands each chunk of the stream to `take`; if `take` throws, the stream is cancelled. A byte stream
 * (a served request's body is one) is read into one reused 64 KiB buffer, so reading leaves no trail
 * of chunk-sized garbage behind (measured: about 22 MiB per 25 MiB body otherwise); other streams
 * chunk by chunk. */
async function eachChunk(
  stream: ReadableStream<Uint8Array>,
  take: (chunk: Uint8Array) => void,
): Promise<void> {
  let byob: ReadableStreamBYOBReader | null = null;
  try {
    byob = stream.getReader({ mode: "byob" });
  } catch {
    // not a byte stream: chunk by chunk
  }
  const plain = byob ? null : stream.getReader();
  let scratch = new Uint8Array(SCRATCH_BYTES);
  try {
    for (;;) {
      const { value, done } = byob ? await byob.read(scratch) : await plain!.read();
      if (done) return;
      take(value);
      // A BYOB read hands the buffer back transferred: keep using it.
      if (byob) scratch = new Uint8Array(value.buffer as ArrayBuffer, 0, SCRATCH_BYTES);
    }
  } catch (error) {
    await (byob ?? plain)!.cancel().catch(() => {});
    throw error;
  } finally {
    (byob ?? plain)!.releaseLock();
  }
}

/** The submission in a body read by readBody: its files are views into that body. */
export function parseSubmission(
  body: Uint8Array,
  boundary: string,
  limits: KycUploadLimits,
  today: Date,
): Submission {
  const parts = parseMultipart(body, boundary, limits.filesMax + TEXT_FIELDS.length + EXTRA_PARTS_MAX);
  if (parts === null) {
    throw problems.validation([{ path: "(body)", message: "Not a valid multipart/form-data body." }]);
  }

  const errors: FieldError[] = [];
  const text: Record<string, string> = {};
  const files: Uint8Array[] = [];
  for (const { name, filename, content } of parts) {
    if (name === FILE_FIELD) {
      if (filename === null) errors.push({ path: FILE_FIELD, message: "Must be a file." });
      else files.push(content);
    } else if ((TEXT_FIELDS as readonly string[]).includes(name)) {
      const value = filename === null ? utf8(content) : null;
      if (filename !== null) errors.push({ path: name, message: "Must be text, not a file." });
      else if (value === null) errors.push({ path: name, message: "Must be UTF-8 text." });
      else if (name in text) errors.push({ path: name, message: "Given more than once." });
      else text[name] = value;
    } else if (errors.length < 50) {
      errors.push({ path: name.slice(0, 64) || "(body)", message: "Unknown field." });
    }
  }
  if (files.length === 0) errors.push({ path: FILE_FIELD, message: "At least one document is required." });
  if (files.length > limits.filesMax) {
    errors.push({ path: FILE_FIELD, message: `At most ${limits.filesMax} documents.` });
  }
  // A file over its own limit is a 413 even when the body as a whole fitted.
  if (files.some((file) => file.byteLength > limits.fileSizeBytesMax)) {
    throw problems.fileTooLarge(limits.fileSizeBytesMax);
  }

  const applicant = applicantSchema(today).safeParse(text);
  if (!applicant.success) {
    errors.push(...fieldErrors(applicant.error).filter((e) => !errors.some((x) => x.path === e.path)));
  }
  const submitted: SubmittedFile[] = [];
  for (const [index, content] of files.slice(0, limits.filesMax).entries()) {
    const type = sniffDocumentType(content);
    if (!type) {
      errors.push({ path: `${FILE_FIELD}.${index}`, message: "Must be a JPEG, PNG or PDF file." });
      continue;
    }
    submitted.push({ bytes: content, contentType: type, sha256: sha256Hex(content) });
  }
  if (errors.length > 0 || !applicant.success) throw problems.validation(errors.slice(0, 50));
  return { applicant: applicant.data, files: submitted };
}

/** SHA-256 of the bytes, hashed where they lie (WebCrypto's digest would copy them first). */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function utf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}
