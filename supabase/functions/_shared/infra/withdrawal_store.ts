// The withdrawal SQL calls (supabase/migrations/20261122060011_create_withdrawals.sql), with their
// SQLSTATEs turned into one typed refusal here.
import { translateNotAdmin } from "./admin_authority.ts";
import type { Sql } from "./db.ts";
import type { EventMetadata } from "./event_store.ts";

export type WithdrawalStatus = "pending" | "approved" | "rejected" | "paid";

export type WithdrawalView = {
  id: string;
  amountMinor: number;
  currency: string;
  status: WithdrawalStatus;
  requestedAt: string;
  decidedAt: string | null;
  reference: string | null;
};

export type AdminWithdrawalView = WithdrawalView & { userId: string; decidedBy: string | null };

export type RefusalReason =
  | "insufficient_funds"
  | "kyc_required"
  | "not_found"
  | "invalid_state"
  | "kyc_revoked"
  | "own_withdrawal"
  | "invalid_amount"
  | "outstanding_balance"
  | "owed_hold"
  | "email_unverified"
  | "account_frozen"
  | "frozen_hold";

const REFUSALS: Record<string, RefusalReason> = {
  MO402: "insufficient_funds",
  MO403: "kyc_required",
  MO405: "email_unverified",
  MO404: "not_found",
  MO409: "invalid_state",
  MO410: "kyc_revoked",
  MO411: "own_withdrawal",
  MO412: "owed_hold",
  MO423: "outstanding_balance",
  MO422: "invalid_amount",
  MO413: "account_frozen",
  MO414: "frozen_hold",
};

export class WithdrawalRefused extends Error {
  override name = "WithdrawalRefused";
  constructor(readonly reason: RefusalReason) {
    super(reason);
  }
}

function translate(error: unknown): unknown {
  const reason = REFUSALS[(error as { code?: string } | null)?.code ?? ""];
  return reason ? new WithdrawalRefused(reason) : translateNotAdmin(error);
}

export type WithdrawalRequest = {
  withdrawalId: string;
  userId: string;
  amountMinor: number;
  currency: string;
  destination: string;
  metadata: EventMetadata;
};

export async function requestWithdrawal(sql: Sql, r: WithdrawalRequest): Promise<WithdrawalView> {
  try {
    const [row] = await sql<{ w: WithdrawalView }[]>`
      select money.request_withdrawal(${r.withdrawalId}::uuid, ${r.userId}::uuid, ${r.amountMinor}, ${r.currency},
        ${r.destination}, ${sql.json(r.metadata as never)}) as w`;
    return row!.w;
  } catch (error) {
    throw translate(error);
  }
}

export type WithdrawalDecision = {
  withdrawalId: string;
  adminId: string;
  decision: "approve" | "reject" | "mark_paid";
  reference: string | null;
  reason: string | null;
  metadata: EventMetadata;
};

export async function decideWithdrawal(sql: Sql, d: WithdrawalDecision): Promise<WithdrawalView> {
  try {
    const [row] = await sql<{ w: WithdrawalView }[]>`
      select money.decide_withdrawal(${d.withdrawalId}::uuid, ${d.adminId}::uuid, ${d.decision}, ${d.reference},
        ${d.reason}, ${sql.json(d.metadata as never)}) as w`;
    return row!.w;
  } catch (error) {
    throw translate(error);
  }
}

/** (requested_at as RFC 3339 text with microseconds, withdrawal_id). The time goes back in as
 * `::text::timestamptz`: a parameter typed timestamptz passes through a JS Date in postgres.js and loses
 * its microseconds, and the next page would skip (newest first) or repeat (oldest first) rows. */
export type WithdrawalKey = [string, string];

const columns = (sql: Sql) =>
  sql`
  withdrawal_id as id, amount_minor as "amountMinor", currency, status, money.rfc3339(requested_at) as "requestedAt",
  money.rfc3339(decided_at) as "decidedAt", reference`;

/** Mine, newest first. */
export function listMyWithdrawals(sql: Sql, userId: string, limit: number, after: WithdrawalKey | null) {
  const afterKey = after
    ? sql`and (requested_at, withdrawal_id) < (${after[0]}::text::timestamptz, ${after[1]}::uuid)`
    : sql``;
  return sql<WithdrawalView[]>`
    select ${columns(sql)} from public.withdrawals
    where user_id = ${userId} ${afterKey}
    order by requested_at desc, withdrawal_id desc
    limit ${limit + 1}`;
}

/** The review queue, oldest first, optionally by status. */
export function listWithdrawalsForReview(
  sql: Sql,
  status: WithdrawalStatus | null,
  limit: number,
  after: WithdrawalKey | null,
) {
  const afterKey = after
    ? sql`and (requested_at, withdrawal_id) > (${after[0]}::text::timestamptz, ${after[1]}::uuid)`
    : sql``;
  const byStatus = status ? sql`and status = ${status}` : sql``;
  return sql<AdminWithdrawalView[]>`
    select ${columns(sql)}, user_id as "userId", decided_by as "decidedBy" from public.withdrawals
    where true ${byStatus} ${afterKey}
    order by requested_at, withdrawal_id
    limit ${limit + 1}`;
}
