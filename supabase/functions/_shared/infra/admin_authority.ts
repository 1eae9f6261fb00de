// Admin authority comes from the database, not the token alone: a token says "admin" for up to its
// lifetime, private.credentials says it now. The admin guard reads the role on every admin request,
// and every SQL admin command checks it again in its own transaction (private.assert_admin), raising
// NOT_ADMIN_SQLSTATE; the stores turn that into NotAdminError, which is a 403 forbidden.
import type { Sql } from "./db.ts";

/** Raised by private.assert_admin (and by kyc.record_decision for one's own case: also a 403). */
export const NOT_ADMIN_SQLSTATE = "KY403";

export class NotAdminError extends Error {
  override name = "NotAdminError";
}

/** Whether the user is an admin now: one primary-key read. */
export async function isAdminNow(sql: Sql, userId: string): Promise<boolean> {
  const [row] = await sql<{ role: string }[]>`select role from private.credentials where user_id = ${userId}`;
  return row?.role === "admin";
}

/** The SQL admin check's refusal as a NotAdminError; anything else unchanged. */
export function translateNotAdmin(error: unknown): unknown {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  return code === NOT_ADMIN_SQLSTATE ? new NotAdminError(message ?? "not an admin") : error;
}
