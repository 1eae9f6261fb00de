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

/** Newest first. `search` matches an email prefix, a user id or a referral code. */
export function listUsers(
  sql: Sql,
  search: string | null,
  limit: number,
  after: UserKey | null,
): Promise<AdminUser[]> {
  const term = search?.trim().toLowerCase() ?? "";
  // A range instead of LIKE, so the unique email index serves any prefix whatever the collation.
  const matches = term === "" ? sql`` : sql`and (
      (p.email >= ${term} and p.email < ${term + "\u{10FFFF}"})
      or u.referral_code = ${term.toUpperCase().replace(/[\s-]/g, "")}
      ${UUID.test(term) ? sql`or u.user_id = ${term}::uuid` : sql``})`;
  const afterKey = after ? sql`and (u.registered_at, u.user_id) < (${after[0]}, ${after[1]})` : sql``;
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
