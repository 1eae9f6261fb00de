// The SQL calls behind password reset, email verification and password change
// (supabase/migrations/20261202040100_create_email_tokens.sql). Emailed tokens are 256 random bits,
// stored as SHA-256; the raw token goes only into the mail (the outbox row drops it once sent).
import type { Sql } from "./db.ts";

export const PASSWORD_RESET_TTL_SECONDS = 30 * 60;
export const EMAIL_VERIFICATION_TTL_SECONDS = 7 * 24 * 3600;

export class InvalidEmailTokenError extends Error {
  override name = "InvalidEmailTokenError";
}

function translate(error: unknown): unknown {
  return (error as { code?: string } | null)?.code === "AU400"
    ? new InvalidEmailTokenError("invalid token")
    : error;
}

export async function requestPasswordReset(
  sql: Sql,
  r: { email: string; tokenSha256: string; token: string },
): Promise<boolean> {
  const [row] = await sql<{ known: boolean }[]>`
    select private.request_password_reset(${r.email}, ${r.tokenSha256}, ${r.token}, ${PASSWORD_RESET_TTL_SECONDS}::int) as known`;
  return row!.known;
}

export async function confirmPasswordReset(
  sql: Sql,
  r: { tokenSha256: string; passwordHash: string; requestId: string },
): Promise<string> {
  try {
    const [row] = await sql<{ user_id: string }[]>`
      select private.confirm_password_reset(${r.tokenSha256}, ${r.passwordHash}, ${
      sql.json({ requestId: r.requestId })
    }) as user_id`;
    return row!.user_id;
  } catch (error) {
    throw translate(error);
  }
}

export async function changePassword(
  sql: Sql,
  r: { userId: string; passwordHash: string; keepFamilyId: string; requestId: string },
): Promise<void> {
  await sql`
    select private.change_password(${r.userId}::uuid, ${r.passwordHash}, ${r.keepFamilyId}::uuid,
      ${sql.json({ requestId: r.requestId })})`;
}

export async function requestEmailVerification(
  sql: Sql,
  r: { userId: string; tokenSha256: string; token: string },
): Promise<boolean> {
  const [row] = await sql<{ sent: boolean }[]>`
    select private.request_email_verification(${r.userId}::uuid, ${r.tokenSha256}, ${r.token},
      ${EMAIL_VERIFICATION_TTL_SECONDS}::int) as sent`;
  return row!.sent;
}

export async function verifyEmail(sql: Sql, r: { tokenSha256: string; requestId: string }): Promise<string> {
  try {
    const [row] = await sql<{ user_id: string }[]>`
      select private.verify_email(${r.tokenSha256}, ${sql.json({ requestId: r.requestId })}) as user_id`;
    return row!.user_id;
  } catch (error) {
    throw translate(error);
  }
}

export async function passwordHashOf(sql: Sql, userId: string): Promise<string | null> {
  const [row] = await sql<{ password_hash: string }[]>`
    select password_hash from private.credentials where user_id = ${userId}::uuid`;
  return row?.password_hash ?? null;
}
