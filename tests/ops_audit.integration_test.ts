// The invariant auditor in production conditions: committed purchases, a projection row corrupted on
// purpose, the hourly audit, then the every-minute alert evaluation. A scratch database, since the audit
// reads only committed events below the snapshot horizon and moves a global checkpoint.
import assert from "node:assert/strict";
import { createSql } from "../supabase/functions/_shared/infra/db.ts";
import { scratchDatabase } from "./scratch_db.ts";

Deno.test("a corrupted balance is found by the next audit and fires the critical alert once", async () => {
  const db = await scratchDatabase();
  const sql = createSql(db.url, 2);
  try {
    const [setup] = await sql<{ root: string; buyer: string; pkg: string }[]>`
      with c as (select test_support.chain(3) as ids), p as (select test_support.package(10000, 100, 30) as id)
      select c.ids[1]::text as root, c.ids[3]::text as buyer, p.id::text as pkg, test_support.set_vip(c.ids[1], 10),
             test_support.buy(c.ids[3], p.id)
      from c, p`;
    const [clean] = await sql<{ events_checked: number; violation_count: number }[]>`
      select events_checked, violation_count from ops.run_invariant_audit()`;
    assert.ok(clean!.events_checked > 10, "the first audit reads every event");
    assert.equal(clean!.violation_count, 0, "honest history has no violation");

    // A later purchase pays the root a commission (VIP set again: a purchase recomputes it); its balance is then corrupted by hand.
    await sql`select test_support.set_vip(${setup!.root}::uuid, 10)`;
    await sql`select test_support.buy(${setup!.buyer}::uuid, ${setup!.pkg}::uuid)`;
    await sql`update public.user_accounts set pending_minor = pending_minor + 7 where user_id = ${
      setup!.root
    }`;
    const [dirty] = await sql<{ events_checked: number; violations: { check: string }[] }[]>`
      select events_checked, violations from ops.run_invariant_audit()`;
    assert.ok(
      dirty!.events_checked > 0 && dirty!.events_checked < clean!.events_checked,
      "the second audit reads only what came after its checkpoint",
    );
    assert.deepEqual(dirty!.violations.map((v) => v.check), ["balance_equals_lines"]);

    const [first] = await sql<{ fired: string[] }[]>`select ops.run_alert_evaluation() -> 'fired' as fired`;
    const [second] = await sql<{ fired: string[] }[]>`
      select ops.run_alert_evaluation(now() + interval '1 minute') -> 'fired' as fired`;
    assert.ok(first!.fired.includes("invariant_violation"), "the critical alert fires at once");
    assert.ok(!second!.fired.includes("invariant_violation"), "and once");
    const alerts = await sql<{ severity: string; resolved_at: Date | null }[]>`
      select severity, resolved_at from ops.alerts where rule_id = 'invariant_violation'`;
    assert.deepEqual(alerts.map((a) => [a.severity, a.resolved_at]), [["critical", null]]);

    // An operator fixes the row and acknowledges the run: the alert resolves.
    await sql`update public.user_accounts set pending_minor = pending_minor - 7 where user_id = ${
      setup!.root
    }`;
    await sql`select ops.acknowledge_audit_run(run_id, 'fixed by hand') from ops.audit_runs where violation_count > 0`;
    const [resolved] = await sql<{ resolved: string[] }[]>`
      select ops.run_alert_evaluation(now() + interval '2 minutes') -> 'resolved' as resolved`;
    assert.ok(resolved!.resolved.includes("invariant_violation"));
  } finally {
    await sql.end();
    await db.drop();
  }
});
