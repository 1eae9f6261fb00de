// Which document storage this deployment uses. KYC_STORAGE=local|supabase; by default Supabase Storage
// when SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY are set (Supabase sets both for every function),
// otherwise the local folder (KYC_STORAGE_DIR, default <repo>/.local/storage).
import type { DocumentStorage } from "./document_storage.ts";
import { defaultStorageRoot, linkSecretFromEnv, LocalFolderStorage } from "./local_folder_storage.ts";
import { SupabaseStorage } from "./supabase_storage.ts";

export async function documentStorageFromEnv(
  fileSizeBytesMax: number,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): Promise<DocumentStorage> {
  const url = env("SUPABASE_URL");
  const serviceRoleKey = env("SUPABASE_SERVICE_ROLE_KEY");
  const kind = env("KYC_STORAGE") ?? (url && serviceRoleKey ? "supabase" : "local");
  if (kind === "supabase") {
    if (!url || !serviceRoleKey) {
      throw new Error("KYC_STORAGE=supabase needs SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY.");
    }
    return new SupabaseStorage({ url, serviceRoleKey, fileSizeBytesMax });
  }
  if (kind !== "local") throw new Error(`KYC_STORAGE must be local or supabase, got ${kind}`);
  const apiUrl = env("API_URL") ?? `http://127.0.0.1:${env("API_PORT") ?? "54321"}`;
  return new LocalFolderStorage({
    root: env("KYC_STORAGE_DIR") ?? defaultStorageRoot(),
    linkBaseUrl: env("KYC_DOCUMENT_LINK_BASE_URL") ?? `${apiUrl}/functions/v1/kyc/documents`,
    secret: await linkSecretFromEnv(env),
  });
}
