// Deliberately injected bugs, to show the simulator's invariants catch real mistakes (issue 13). Each one
// rewrites the LIVE definition of one money function on the simulation's scratch database only (read
// with pg_get_functiondef, edited as text, created again), so it follows whatever the migrations define
// today and fails loudly if the code it breaks has changed. Nothing here touches a migration.
import type { Sql } from "../../supabase/functions/_shared/infra/db.ts";

type Bug = { fn: string; description: string; edits: [from: string, to: string][] };

export const BUGS: Record<string, Bug> = {
  // Rounding: a commission rounded up instead of down.
  commission_ceil: {
    fn: "money.complete_purchase",
    description: "commissions rounded up (ceil) instead of down (floor)",
    edits: [[
      "'amountMinor', v_purchase.amount_minor * c.rate_bps / 10000,",
      "'amountMinor', ceil(v_purchase.amount_minor * c.rate_bps / 10000.0)::bigint,",
    ]],
  },
  // A missing lock: the payment path neither takes the payment intent's lock nor locks the purchase row,
  // so two deliveries at once both see it pending (the sleep widens the window a real race would hit).
  missing_purchase_lock: {
    fn: "money.complete_purchase",
    description: "no lock on the purchase when completing it (two concurrent deliveries both pay)",
    edits: [
      ["perform money.lock_payment_intent(p_payment_intent_id);", "null;"],
      [
        "select * into v_purchase from public.purchases where purchase_id = p_purchase_id for update;",
        "select * into v_purchase from public.purchases where purchase_id = p_purchase_id; perform pg_sleep(0.05);",
      ],
    ],
  },
  // Earnings: the hourly accrual forgets that refunded and disputed contracts stopped, so they keep earning.
  earnings_after_refund: {
    fn: "projections.project_earnings_period",
    description: "refunded and disputed contracts keep earning",
    edits: [[
      "where status = 'active' and starts_at <= v_starts_at and ends_at >= v_ends_at",
      "where starts_at <= v_starts_at and ends_at >= v_ends_at",
    ]],
  },
};

export async function injectBug(sql: Sql, name: string): Promise<void> {
  const bug = BUGS[name];
  if (!bug) throw new Error(`unknown bug ${name}; known: ${Object.keys(BUGS).join(", ")}`);
  const [row] = await sql<{ def: string }[]>`
    select pg_get_functiondef(p.oid) as def from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname || '.' || p.proname = ${bug.fn}`;
  let def = row?.def ?? "";
  for (const [from, to] of bug.edits) {
    if (!def.includes(from)) {
      throw new Error(`cannot inject ${name}: ${bug.fn} no longer contains ${JSON.stringify(from)}`);
    }
    def = def.replaceAll(from, to);
  }
  await sql.unsafe(def);
}
