// Limits of a KYC upload, configurable per deployment. The body limit follows from them: every file at
// its maximum plus 64 KiB for the text fields and the multipart framing. A body is held in memory once
// while it is checked and stored, and the bodies in progress at once share a memory budget
// (KYC_UPLOAD_MEMORY_BYTES_MAX; a hosted function has 256 MB in all): see upload_budget.ts.
import { positiveInt } from "../_shared/auth/config.ts";

export type KycUploadLimits = {
  fileSizeBytesMax: number;
  filesMax: number;
  /** Bytes of upload bodies held at once, per function instance; at least one maximal body. */
  memoryBytesMax: number;
  /** Uploads waiting for room in that budget; more are refused at once. */
  queuedMax: number;
  /** How long an upload waits for room before it is refused. */
  queueWaitMs: number;
};

export const FILE_SIZE_BYTES_MAX_DEFAULT = 5 * 1024 * 1024;
export const FILES_MAX_DEFAULT = 5;
export const UPLOAD_MEMORY_BYTES_MAX_DEFAULT = 100 * 1024 * 1024;
/** Hard ceilings, whatever the environment says. */
const FILE_SIZE_BYTES_MAX_CEILING = 20 * 1024 * 1024;
const FILES_MAX_CEILING = 10;
const FORM_OVERHEAD_BYTES = 64 * 1024;
const QUEUED_MAX = 16;
const QUEUE_WAIT_MS = 10_000;

export function uploadLimitsFromEnv(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): KycUploadLimits {
  const fileSizeBytesMax = positiveInt(env("KYC_FILE_SIZE_BYTES_MAX"), FILE_SIZE_BYTES_MAX_DEFAULT);
  const filesMax = positiveInt(env("KYC_FILES_MAX"), FILES_MAX_DEFAULT);
  if (fileSizeBytesMax > FILE_SIZE_BYTES_MAX_CEILING || filesMax > FILES_MAX_CEILING) {
    throw new Error(`KYC limits: at most ${FILES_MAX_CEILING} files of ${FILE_SIZE_BYTES_MAX_CEILING} bytes`);
  }
  const memoryBytesMax = positiveInt(env("KYC_UPLOAD_MEMORY_BYTES_MAX"), UPLOAD_MEMORY_BYTES_MAX_DEFAULT);
  const body = bodyBytesMax({ fileSizeBytesMax, filesMax });
  if (body > memoryBytesMax) {
    throw new Error(
      `KYC limits: one upload (${body} bytes) exceeds KYC_UPLOAD_MEMORY_BYTES_MAX (${memoryBytesMax})`,
    );
  }
  return { fileSizeBytesMax, filesMax, memoryBytesMax, queuedMax: QUEUED_MAX, queueWaitMs: QUEUE_WAIT_MS };
}

export function bodyBytesMax(limits: Pick<KycUploadLimits, "fileSizeBytesMax" | "filesMax">): number {
  return limits.filesMax * limits.fileSizeBytesMax + FORM_OVERHEAD_BYTES;
}
