// Limits of a KYC upload, configurable per deployment. The body limit follows from them: every file at
// its maximum plus 64 KiB for the text fields and the multipart framing.
import { positiveInt } from "../_shared/auth/config.ts";

export type KycUploadLimits = { fileSizeBytesMax: number; filesMax: number };

export const FILE_SIZE_BYTES_MAX_DEFAULT = 5 * 1024 * 1024;
export const FILES_MAX_DEFAULT = 5;
/** Hard ceilings, whatever the environment says: an edge function holds the whole body in memory. */
const FILE_SIZE_BYTES_MAX_CEILING = 20 * 1024 * 1024;
const FILES_MAX_CEILING = 10;
const FORM_OVERHEAD_BYTES = 64 * 1024;

export function uploadLimitsFromEnv(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): KycUploadLimits {
  const limits = {
    fileSizeBytesMax: positiveInt(env("KYC_FILE_SIZE_BYTES_MAX"), FILE_SIZE_BYTES_MAX_DEFAULT),
    filesMax: positiveInt(env("KYC_FILES_MAX"), FILES_MAX_DEFAULT),
  };
  if (limits.fileSizeBytesMax > FILE_SIZE_BYTES_MAX_CEILING || limits.filesMax > FILES_MAX_CEILING) {
    throw new Error(`KYC limits: at most ${FILES_MAX_CEILING} files of ${FILE_SIZE_BYTES_MAX_CEILING} bytes`);
  }
  return limits;
}

export function bodyBytesMax(limits: KycUploadLimits): number {
  return limits.filesMax * limits.fileSizeBytesMax + FORM_OVERHEAD_BYTES;
}
