// The mixed-history rebuild test (supabase/tests/projections/rebuild_equals_live_over_a_mixed_history.test.sql)
// with the debt-collection rule switched on in the middle of the history (projections.rule_changes), so that
// set-based ranges replay releases on both sides of the rule's position. It runs in a database of its own:
// moving the rule's position in the shared test database would change how other tests' events replay.
import assert from "node:assert/strict";
import { scratchDatabase } from "./scratch_db.ts";

const testFile = new URL(
  "../supabase/tests/projections/rebuild_equals_live_over_a_mixed_history.test.sql",
  import.meta.url,
).pathname;

Deno.test("rebuild equals live over a mixed history whose debt rule starts midway", async () => {
  const scratch = await scratchDatabase();
  try {
    const out = await new Deno.Command("psql", {
      args: [
        "-X",
        "-q",
        "-At",
        "-v",
        "ON_ERROR_STOP=1",
        "-v",
        "rule_boundary=1",
        scratch.url,
        "-f",
        testFile,
      ],
      env: { PGOPTIONS: "-c client_min_messages=warning" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success, text);
    const results = text.split("\n").filter((line) => /^(not )?ok \d+/.test(line));
    assert.deepEqual(results.filter((line) => line.startsWith("not ok")), [], text);
    assert.equal(results.length, 9, text);
    assert.ok(results.includes("ok 2 - some releases paid debt down"), text);
  } finally {
    await scratch.drop();
  }
});
