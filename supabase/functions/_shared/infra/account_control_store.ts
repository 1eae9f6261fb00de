// Account controls' SQL calls (supabase/migrations/20261202020000_create_account_controls.sql): freeze,
// unfreeze, role changes, and the frozen check purchases make before they call Stripe. SQLSTATEs become
// one typed refusal here.
import { translateNotAdmin } from "./admin_authority.ts";
import type { Sql } from "./db.ts";
import type { EventMetadata } from "./event_store.ts";

/** Raised by money.start_checkout and money.request_withdrawal for a frozen account. */
export const ACCOUNT_FROZEN_SQLSTATE = "MO413";

export class AccountFrozenError extends Error {
  override name = "AccountFrozenError";
}

export type ControlRefusalReason = "own_account" | "not_found" | "last_admin" | "unknown_reason";

const REFUSALS: Record<string, ControlRefusalReason> = {
  AD403: "own_account",
  AD404: "not_found",
  AD409: "last_admin",
  AD422: "unknown_reason",
};

export class AccountControlRefused extends Error {
  override name = "AccountControlRefused";
  constructor(readonly reason: ControlRefusalReason) {
    super(reason);
  }
}

function translate(error: unknown): unknown {
  const reason = REFUSALS[(error as { code?: string } | null)?.code ?? ""];
  return reason ? new AccountControlRefused(reason) : translateNotAdmin(error);
}

export type AccountControl = {
  userId: string;
  frozen: boolean;
  reason: string | null;
  frozenAt: string | null;
  frozenBy: string | null;
  heldMinor: number;
  /** False when the account already was in the asked state (nothing was recorded). */
  changed: boolean;
};

export type FreezeCommand = {
  userId: string;
  adminId: string;
  action: "freeze" | "unfreeze";
  reason: string;
  note: string | null;
  metadata: EventMetadata;
};

export async function setAccountFrozen(sql: Sql, c: FreezeCommand): Promise<AccountControl> {
  try {
    const [row] = await sql<{ r: AccountControl }[]>`
      select money.set_account_frozen(${c.userId}::uuid, ${c.adminId}::uuid, ${c.action}, ${c.reason}, ${c.note},
        ${sql.json(c.metadata as never)}) as r`;
    return row!.r;
  } catch (error) {
    throw translate(error);
  }
}

export type RoleChange = {
  userId: string;
  adminId: string;
  role: "user" | "admin";
  note: string | null;
  metadata: EventMetadata;
};

export async function changeRole(
  sql: Sql,
  c: RoleChange,
): Promise<{ userId: string; role: string; changed: boolean }> {
  try {
    const [row] = await sql<{ r: { userId: string; role: string; changed: boolean } }[]>`
      select private.change_role(${c.userId}::uuid, ${c.adminId}::uuid, ${c.role}, ${c.note},
        ${sql.json(c.metadata as never)}) as r`;
    return row!.r;
  } catch (error) {
    throw translate(error);
  }
}

/** A cheap read before work outside the database (a Stripe session); the command checks again itself. */
export async function isFrozen(sql: Sql, userId: string): Promise<boolean> {
  const [row] = await sql<{ frozen: boolean }[]>`select money.is_frozen(${userId}::uuid) as frozen`;
  return row?.frozen === true;
}
