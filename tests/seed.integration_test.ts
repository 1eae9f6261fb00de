// ./dev seed against the local stack: a small run makes users in a tree, paid purchases (part through the
// gateway's signed webhooks), KYC cases in every state, and leaves the earnings job running.
import assert from "node:assert/strict";
import { DATABASE_URL, testSql } from "./support.ts";

const seedScript = new URL("../devstack/seed.ts", import.meta.url).pathname;

async function runSeed(...args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", seedScript, ...args],
    env: { DATABASE_URL, SEED_RANDOM: "7" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("seed: bad arguments are refused with the usage line, and nothing is written", async () => {
  for (const args of [["--users", "0"], ["--users", "ten"], ["--days", "31"], ["--color", "red"]]) {
    const result = await runSeed(...args);
    assert.equal(result.code, 2, args.join(" "));
    assert.match(result.stderr, /usage: \.\/dev seed/);
    assert.doesNotMatch(result.stderr, /seeding/);
  }
});

Deno.test("seed: 40 users in a tree, paid purchases, webhooks through the gateway, KYC in every state", async () => {
  const result = await runSeed("--users", "40", "--days", "0");
  assert.equal(result.code, 0, result.stderr);
  const runId = /\(run ([0-9a-f]{8})\)/.exec(result.stderr)?.[1];
  assert.ok(runId, result.stderr);
  // Every webhook the seed sent was accepted and applied: min(100, 40) purchases paid that way.
  assert.match(result.stdout, /checkout\.session\.completed → purchased: 40\b/);

  const sql = testSql(1);
  try {
    const [users] = await sql<{ users: number; referred: number; uplines_ok: boolean }[]>`
      select count(*)::int as users, count(u.referrer_id)::int as referred,
             bool_and(u.referrer_id is null or r.ancestor_ids[1] = u.referrer_id) as uplines_ok
      from private.profiles p join public.users u using (user_id)
      left join public.referral_uplines r using (user_id)
      where p.email like ${`seed-${runId}-%@example.test`}`;
    assert.equal(users!.users, 40);
    assert.ok(
      users!.referred > 0 && users!.referred < 40,
      `${users!.referred} referred: a tree, not a list of roots`,
    );
    assert.equal(users!.uplines_ok, true);

    const kyc = await sql<{ status: string }[]>`
      select distinct c.status from public.kyc_cases c join private.profiles p using (user_id)
      where p.email like ${`seed-${runId}-%@example.test`} order by 1`;
    assert.deepEqual(kyc.map((r) => r.status), [
      "approved",
      "pending",
      "rejected",
      "resubmission_requested",
      "revoked",
    ]);

    const [purchases] = await sql<{ paid: number }[]>`
      select count(*)::int as paid from public.purchases x join private.profiles p using (user_id)
      where p.email like ${`seed-${runId}-%@example.test`} and x.paid_at is not null`;
    assert.ok(purchases!.paid >= 40, `${purchases!.paid} paid purchases`);

    const [job] = await sql<
      { active: boolean }[]
    >`select active from cron.job where jobname = 'accrue-earnings'`;
    assert.equal(job!.active, true, "the earnings job runs again after the seed");
  } finally {
    await sql.end();
  }
});
