// Which identity documents we accept, decided by the file's first bytes (its magic number), never by
// its name or the Content-Type the client claimed: both are whatever the uploader typed.
export type DocumentContentType = "image/jpeg" | "image/png" | "application/pdf";

const SIGNATURES: readonly { contentType: DocumentContentType; magic: readonly number[] }[] = [
  { contentType: "image/jpeg", magic: [0xff, 0xd8, 0xff] },
  { contentType: "image/png", magic: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  // "%PDF-": readers tolerate junk before it, we do not (an upload is a fresh file, not a mail attachment).
  { contentType: "application/pdf", magic: [0x25, 0x50, 0x44, 0x46, 0x2d] },
];

export function sniffDocumentType(bytes: Uint8Array): DocumentContentType | null {
  for (const { contentType, magic } of SIGNATURES) {
    if (bytes.length > magic.length && magic.every((byte, i) => bytes[i] === byte)) return contentType;
  }
  return null;
}

export function extensionOf(contentType: DocumentContentType): string {
  return contentType === "image/jpeg" ? "jpg" : contentType === "image/png" ? "png" : "pdf";
}
