// Reading a KYC submission: multipart/form-data only (415), the body bounded before parsing (413),
// each file bounded (413), at least one and at most filesMax documents, each a JPEG, PNG or PDF by its
// magic bytes, and the three identity fields; anything else is 400 validation_failed. Nothing here
// touches storage or the database, so a refused request has stored nothing.
import { type Applicant, applicantSchema } from "../_shared/domain/kyc/applicant.ts";
import { type DocumentContentType, sniffDocumentType } from "../_shared/domain/kyc/document_type.ts";
import { fieldErrors, readBodyBytes } from "../_shared/http/body.ts";
import { type FieldError, problems } from "../_shared/http/problem.ts";
import { bodyBytesMax, type KycUploadLimits } from "./upload_limits.ts";

export type SubmittedFile = { bytes: Uint8Array; contentType: DocumentContentType; sha256: string };
export type Submission = { applicant: Applicant; files: SubmittedFile[] };

const TEXT_FIELDS = ["fullName", "dateOfBirth", "country"] as const;
const FILE_FIELD = "document";

export async function readSubmission(
  req: Request,
  limits: KycUploadLimits,
  today: Date,
): Promise<Submission> {
  const contentType = req.headers.get("content-type") ?? "";
  const mediaType = contentType.split(";")[0]!.trim().toLowerCase();
  if (mediaType !== "multipart/form-data" || !/;\s*boundary=/i.test(contentType)) {
    await req.body?.cancel();
    throw problems.unsupportedMediaType("multipart/form-data");
  }
  const bytes = await readBodyBytes(req, bodyBytesMax(limits));
  let form: FormData;
  try {
    form = await new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { "content-type": contentType } })
      .formData();
  } catch {
    throw problems.validation([{ path: "(body)", message: "Not a valid multipart/form-data body." }]);
  }

  const errors: FieldError[] = [];
  const text: Record<string, string> = {};
  const files: File[] = [];
  for (const [name, value] of form) {
    if (name === FILE_FIELD) {
      if (typeof value === "string") errors.push({ path: FILE_FIELD, message: "Must be a file." });
      else files.push(value);
    } else if ((TEXT_FIELDS as readonly string[]).includes(name)) {
      if (typeof value !== "string") errors.push({ path: name, message: "Must be text, not a file." });
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
  if (files.some((file) => file.size > limits.fileSizeBytesMax)) {
    throw problems.fileTooLarge(limits.fileSizeBytesMax);
  }

  const applicant = applicantSchema(today).safeParse(text);
  if (!applicant.success) {
    errors.push(...fieldErrors(applicant.error).filter((e) => !errors.some((x) => x.path === e.path)));
  }
  const submitted: SubmittedFile[] = [];
  for (const [index, file] of files.slice(0, limits.filesMax).entries()) {
    const content = new Uint8Array(await file.arrayBuffer());
    const type = sniffDocumentType(content);
    if (!type) {
      errors.push({ path: `${FILE_FIELD}.${index}`, message: "Must be a JPEG, PNG or PDF file." });
      continue;
    }
    submitted.push({ bytes: content, contentType: type, sha256: await sha256Hex(content) });
  }
  if (errors.length > 0 || !applicant.success) throw problems.validation(errors.slice(0, 50));
  return { applicant: applicant.data, files: submitted };
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
