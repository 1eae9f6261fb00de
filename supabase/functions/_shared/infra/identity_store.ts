// The auth function's SQL calls (supabase/migrations/20261122040*): one round trip per command,
// with the SQLSTATEs those functions raise turned into typed errors here, in one place.
import { type Sql, uuidLiteral } from "./db.ts";

export type AccountJson = {
  id: string;
  email: string;
  role: "user" | "admin";
  referralCode: string;
  referrerId: string | null;
  vipLevel: number;
  kycStatus: string;
  createdAt: string;
  /** Notifications: the address was verified (EmailVerified) / is not on the suppression list. */
  emailVerified: boolean;
  emailDeliverable: boolean;
};

export class EmailTakenError extends Error {
  override name = "EmailTakenError";
}
export class UnknownReferralCodeError extends Error {
  override name = "UnknownReferralCodeError";
}
export class ReferralCodeCollisionError extends Error {
  override name = "ReferralCodeCollisionError";
}

/** SQLSTATEs raised by the identity SQL functions. */
export const IDENTITY_SQLSTATE = {
  emailTaken: "AU409",
  unknownReferralCode: "AU422",
  referralCodeTaken: "AU423",
  userNotFound: "AU404",
  referrerFixed: "AU403",
} as const;

function translate(error: unknown): unknown {
  const { code, constraint_name: constraint } = (error ?? {}) as { code?: string; constraint_name?: string };
  if (code === IDENTITY_SQLSTATE.emailTaken) return new EmailTakenError("email taken");
  if (code === IDENTITY_SQLSTATE.unknownReferralCode) {
    return new UnknownReferralCodeError("unknown referral code");
  }
  if (
    code === IDENTITY_SQLSTATE.referralCodeTaken ||
    (code === "23505" && constraint === "users_referral_code_key")
  ) {
    return new ReferralCodeCollisionError("referral code taken");
  }
  return error;
}

export type Registration = {
  userId: string;
  email: string;
  passwordHash: string;
  referralCode: string;
  referredByCode: string | null;
  familyId: string;
  refreshTokenSha256: string;
  refreshTokenTtlSeconds: number;
  requestId: string;
};

export async function registerUser(sql: Sql, r: Registration): Promise<AccountJson> {
  try {
    const [row] = await sql<{ account: AccountJson }[]>`
      select private.register_user(
        ${r.userId}::uuid, ${r.email}, ${r.passwordHash}, ${r.referralCode}, ${r.referredByCode},
        ${r.familyId}::uuid, ${r.refreshTokenSha256}, ${r.refreshTokenTtlSeconds},
        ${sql.json({ requestId: r.requestId })}
      ) as account`;
    return row!.account;
  } catch (error) {
    throw translate(error);
  }
}

export type LoginRecord = { userId: string; passwordHash: string; account: AccountJson };

export async function findLogin(sql: Sql, email: string): Promise<LoginRecord | null> {
  const [row] = await sql<{ user_id: string; password_hash: string; account: AccountJson }[]>`
    select c.user_id, c.password_hash, private.account_json(c.user_id) as account
    from private.profiles p join private.credentials c on c.user_id = p.user_id
    where p.email = ${email}`;
  if (!row || !row.account) return null;
  return { userId: row.user_id, passwordHash: row.password_hash, account: row.account };
}

export async function startSession(
  sql: Sql,
  s: { userId: string; familyId: string; refreshTokenSha256: string; refreshTokenTtlSeconds: number },
): Promise<void> {
  await sql`select private.start_session(${s.userId}::uuid, ${s.familyId}::uuid, ${s.refreshTokenSha256}, ${s.refreshTokenTtlSeconds})`;
}

export type Rotation =
  | { outcome: "rotated"; familyId: string; user: AccountJson }
  | { outcome: "reused" | "revoked" | "expired" | "invalid" };

export async function rotateRefreshToken(
  sql: Sql,
  presentedSha256: string,
  nextSha256: string,
  ttlSeconds: number,
): Promise<Rotation> {
  const [row] = await sql<{ rotation: Rotation }[]>`
    select private.rotate_refresh_token(${presentedSha256}, ${nextSha256}, ${ttlSeconds}) as rotation`;
  return row!.rotation;
}

export async function revokeSession(sql: Sql, userId: string, familyId: string): Promise<boolean> {
  const [row] = await sql<{ revoked: boolean }[]>`
    select private.revoke_session(${userId}::uuid, ${familyId}::uuid) as revoked`;
  return row!.revoked;
}

/** GET /auth/me's one read: private.account_json, a PL/pgSQL function so its plan is cached per session
 * (the same query sent as text is planned on every request; see its migration for the figures), called
 * without parameters so it takes one round trip (uuidLiteral). */
export async function loadAccount(sql: Sql, userId: string): Promise<AccountJson | null> {
  const [row] = await sql.unsafe<{ account: AccountJson | null }[]>(
    `select private.account_json(${uuidLiteral(userId)}) as account`,
  );
  return row?.account ?? null;
}
