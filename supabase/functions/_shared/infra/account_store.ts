// Reads of the money projections for one user (the account function). Every query is keyed by the
// user id from the verified token, so a user can only ever read their own rows.
import type { Sql } from "./db.ts";

export type AccountSummary = {
  currency: string;
  availableMinor: number;
  pendingMinor: number;
  inTransitMinor: number;
  owedMinor: number;
  earnedMinor: number;
  commissionMinor: number;
  withdrawnMinor: number;
  vipLevel: number;
  /** Credits that arrived while the account was frozen; they reach available when it is unfrozen. */
  heldMinor: number;
  frozen: boolean;
};

export async function loadAccountSummary(sql: Sql, userId: string): Promise<AccountSummary | null> {
  const [row] = await sql<AccountSummary[]>`
    select a.currency, a.available_minor as "availableMinor", a.pending_minor as "pendingMinor",
           a.in_transit_minor as "inTransitMinor", a.owed_minor as "owedMinor", a.earned_minor as "earnedMinor",
           a.commission_minor as "commissionMinor", a.withdrawn_minor as "withdrawnMinor", u.vip_level as "vipLevel",
           a.held_minor as "heldMinor", money.is_frozen(a.user_id) as frozen
    from public.user_accounts a join public.users u using (user_id)
    where a.user_id = ${userId}`;
  return row ?? null;
}

export type LedgerKey = [number, number];

export type LedgerEntry = {
  position: number;
  line: number;
  account: string;
  amountMinor: number;
  balanceBeforeMinor: number;
  balanceAfterMinor: number;
  currency: string;
  eventType: string;
  referenceId: string | null;
  recordedAt: string;
};

export function listLedger(
  sql: Sql,
  userId: string,
  limit: number,
  after: LedgerKey | null,
): Promise<LedgerEntry[]> {
  const [position, line] = after ?? [Number.MAX_SAFE_INTEGER, 0];
  return sql<LedgerEntry[]>`
    select event_position as position, line, account, amount_minor as "amountMinor",
           balance_before_minor as "balanceBeforeMinor", balance_after_minor as "balanceAfterMinor", currency,
           event_type as "eventType", reference_id as "referenceId", money.rfc3339(recorded_at) as "recordedAt"
    from public.ledger_entries
    where user_id = ${userId} and (event_position, line) < (${position}, ${line})
    order by event_position desc, line desc
    limit ${limit + 1}`;
}

export type ContractKey = [string, string];

export type ContractView = {
  id: string;
  purchaseId: string;
  packageId: string;
  principalMinor: number;
  currency: string;
  dailyRateBps: number;
  durationDays: number;
  totalYieldMinor: number;
  accruedMinor: number;
  startsAt: string;
  endsAt: string;
  status: "active" | "completed" | "refunded" | "disputed";
  stoppedAt: string | null;
};

export function listContracts(
  sql: Sql,
  userId: string,
  limit: number,
  after: ContractKey | null,
  now: Date,
): Promise<ContractView[]> {
  // ::text first: a parameter typed timestamptz passes through a JS Date in postgres.js and loses its
  // microseconds, and the next page would skip the rest of that millisecond.
  const afterKey = after
    ? sql`and (starts_at, contract_id) < (${after[0]}::text::timestamptz, ${after[1]}::uuid)`
    : sql``;
  return sql<ContractView[]>`
    select contract_id as id, purchase_id as "purchaseId", package_id as "packageId", principal_minor as "principalMinor",
           currency, daily_rate_bps as "dailyRateBps", duration_days as "durationDays",
           total_yield_minor as "totalYieldMinor", money.accrued_after_periods(total_yield_minor, money.contract_periods_accrued(starts_at, ends_at, stopped_after_periods), duration_days) as "accruedMinor",
           money.rfc3339(starts_at) as "startsAt", money.rfc3339(ends_at) as "endsAt",
           case when status = 'active' and ends_at <= ${now} then 'completed' else status end as status,
           money.rfc3339(stopped_at) as "stoppedAt"
    from public.contracts
    where user_id = ${userId} ${afterKey}
    order by starts_at desc, contract_id desc
    limit ${limit + 1}`;
}

export type NetworkView = {
  directReferrals: number;
  totalNetwork: number;
  levels: { level: number; members: number; volumeMinor: number }[];
};

export async function loadNetwork(sql: Sql, userId: string): Promise<NetworkView> {
  const [row] = await sql<{ network: NetworkView }[]>`select money.network_json(${userId}) as network`;
  return row!.network;
}
