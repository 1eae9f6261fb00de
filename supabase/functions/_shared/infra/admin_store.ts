// Admin reads: users (with their email, which only admins see) and the earnings run history.
import type { Sql } from "./db.ts";

export type AdminUser = {
  id: string;
  email: string;
  role: string;
  referralCode: string;
  referrerId: string | null;
  vipLevel: number;
  kycStatus: string;
  createdAt: string;
};

export type UserKey = [string, string];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a search term can name, besides an email prefix: a referral code (as typed, any case) and an id. */
const REFERRAL_CODE = /^[23456789ABCDEFGHJKMNPQRSTVWXYZ]{8}$/;
/** Trigram indexes serve substrings of three characters or more; shorter terms match an email prefix. */
const SUBSTRING_CHARS_MIN = 3;

/** A LIKE pattern that matches `term` literally anywhere. */
function containsPattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Newest first. `search` matches an email substring (a prefix when shorter than three characters), a
 * KYC applicant's name, a referral code or a user id. Each kind of match is its own indexed lookup (a
 * union of user ids), then one keyset page of those users. */
export function listUsers(
  sql: Sql,
  search: string | null,
  limit: number,
  after: UserKey | null,
): Promise<AdminUser[]> {
  const term = search?.trim().toLowerCase() ?? "";
  const code = term.toUpperCase().replace(/[\s-]/g, "");
  const byId = UUID.test(term) ? sql`union select ${term}::uuid` : sql``;
  const byCode = REFERRAL_CODE.test(code)
    ? sql`union select user_id from public.users where referral_code = ${code}`
    : sql``;
  const text = [...term].length >= SUBSTRING_CHARS_MIN
    ? sql`select user_id from private.profiles where email like ${containsPattern(term)}
          union select user_id from private.kyc_applicants where lower(full_name) like ${
      containsPattern(term)
    }`
    : sql`select user_id from private.profiles where email >= ${term} and email < ${term + "\u{10FFFF}"}`;
  // A range instead of LIKE for a prefix, so the unique email index serves it whatever the collation.
  const matches = term === "" ? sql`` : sql`and u.user_id in (${text} ${byCode} ${byId})`;
  // ::text first: a parameter typed timestamptz passes through a JS Date in postgres.js and loses its
  // microseconds, and the next page would skip the rest of that millisecond.
  const afterKey = after
    ? sql`and (u.registered_at, u.user_id) < (${after[0]}::text::timestamptz, ${after[1]}::uuid)`
    : sql``;
  return sql<AdminUser[]>`
    select u.user_id as id, p.email, c.role, u.referral_code as "referralCode", u.referrer_id as "referrerId",
           u.vip_level as "vipLevel", u.kyc_status as "kycStatus", money.rfc3339(u.registered_at) as "createdAt"
    from public.users u
    join private.profiles p on p.user_id = u.user_id
    join private.credentials c on c.user_id = u.user_id
    where true ${matches} ${afterKey}
    order by u.registered_at desc, u.user_id desc
    limit ${limit + 1}`;
}

/** admin.user_overview (supabase/migrations/20261202020200_create_user_overview.sql); null for an unknown user. */
export async function loadUserOverview(
  sql: Sql,
  userId: string,
  limit: number,
  eventsBefore: number | null,
): Promise<Record<string, unknown> | null> {
  const [row] = await sql<{ o: Record<string, unknown> | null }[]>`
    select admin.user_overview(${userId}::uuid, ${limit}, ${eventsBefore}) as o`;
  return row?.o ?? null;
}

export type EarningsRun = {
  id: number;
  startedAt: string;
  durationMs: number;
  periods: number;
  firstPeriod: string | null;
  lastPeriod: string | null;
  contracts: number;
  totalMinor: number;
  status: "succeeded" | "failed";
  error: string | null;
};

export function listEarningsRuns(sql: Sql, limit: number, afterId: number | null): Promise<EarningsRun[]> {
  return sql<EarningsRun[]>`
    select run_id as id, money.rfc3339(started_at) as "startedAt", duration_ms as "durationMs", periods,
           money.rfc3339(first_period) as "firstPeriod", money.rfc3339(last_period) as "lastPeriod", contracts,
           total_minor as "totalMinor", status, error
    from money.earnings_runs
    where run_id < ${afterId ?? Number.MAX_SAFE_INTEGER}
    order by run_id desc
    limit ${limit + 1}`;
}
