// Mail preferences and provider events (supabase/migrations/20261202040200_*).
import type { Sql } from "./db.ts";

export type Preferences = { commissionDigest: boolean };

export class UnknownPreferenceError extends Error {
  override name = "UnknownPreferenceError";
}

export async function loadPreferences(sql: Sql, userId: string): Promise<Preferences> {
  const [row] = await sql<{ p: Preferences }[]>`select notify.preferences_json(${userId}::uuid) as p`;
  return row!.p;
}

export async function setPreference(
  sql: Sql,
  userId: string,
  preference: string,
  on: boolean,
): Promise<Preferences> {
  try {
    const [row] = await sql<{ p: Preferences }[]>`
      select notify.set_preference(${userId}::uuid, ${preference}, ${on}) as p`;
    return row!.p;
  } catch (error) {
    if ((error as { code?: string } | null)?.code === "NT422") throw new UnknownPreferenceError(preference);
    throw error;
  }
}

export async function recordProviderEvent(
  sql: Sql,
  e: { eventId: string; type: string; addresses: string[]; suppressReason: "bounce" | "complaint" | null },
): Promise<"duplicate" | "suppressed" | "recorded"> {
  const [row] = await sql<{ outcome: "duplicate" | "suppressed" | "recorded" }[]>`
    select notify.record_provider_event(${e.eventId}, ${e.type}, ${e.addresses}::text[], ${e.suppressReason}) as outcome`;
  return row!.outcome;
}
