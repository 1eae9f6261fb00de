// Commands that touch the same uplines at the same time: signups under a referrer while a sibling's
// purchases complete, and a refund while another purchase under the same upline completes. Each
// command locks the rows its projections write before appending, so none may fail (deadlocks were
// found here by review and fixed).
import assert from "node:assert/strict";
import { testSql } from "./support.ts";

const sql = testSql(8);
const CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ";
const code = () => Array.from({ length: 8 }, () => CODE_ALPHABET[Math.floor(Math.random() * 30)]).join("");

/** Signup as the auth function does it (private.register_user), under a referral code. */
async function signup(referredBy: string | null): Promise<{ id: string; code: string }> {
  const id = crypto.randomUUID();
  const referralCode = code();
  await sql`select private.register_user(${id}::uuid, ${`conc-${id}@example.test`}, '$scrypt$test', ${referralCode},
    ${referredBy}, gen_random_uuid(), ${crypto.randomUUID().replaceAll("-", "").repeat(2)}, 60)`;
  return { id, code: referralCode };
}

async function buy(userId: string, packageId: string): Promise<string> {
  const [row] = await sql<{ id: string }[]>`select test_support.buy(${userId}, ${packageId}) as id`;
  return row!.id;
}

Deno.test("signups under a referrer while a sibling's purchases complete: all succeed", async () => {
  const [pkg] = await sql<{ id: string }[]>`select test_support.package(10000, 100, 30) as id`;
  const referrer = await signup(null);
  const sibling = await signup(referrer.code);
  await buy(referrer.id, pkg!.id);
  const results = await Promise.allSettled([
    ...Array.from({ length: 30 }, () => signup(referrer.code)),
    ...Array.from({ length: 30 }, () => buy(sibling.id, pkg!.id)),
  ]);
  const failures = results.filter((r) => r.status === "rejected").map((r) =>
    String((r as PromiseRejectedResult).reason)
  );
  assert.deepEqual(failures, []);
  const [network] = await sql<{ members: number; purchased: number }[]>`
    select (select members from public.network_levels where user_id = ${referrer.id} and level = 1)::int as members,
           (select count(*) from public.purchases where user_id = ${sibling.id} and status = 'paid')::int as purchased`;
  assert.deepEqual(network, { members: 31, purchased: 30 });
});

Deno.test("a won dispute delivered three times at once, a refund racing a withdrawal: each applies once", async () => {
  const [pkg] = await sql<{ id: string }[]>`select test_support.package(100000, 100, 30) as id`;
  const upline = await signup(null);
  await buy(upline.id, pkg!.id);
  const buyer = await signup(upline.code);
  const disputed = await buy(buyer.id, pkg!.id);
  const refunded = await buy(buyer.id, pkg!.id);
  await sql`select money.release_due_commissions(now() + interval '1 year', 50000)`;
  await sql`select test_support.approve_kyc(${upline.id})`;
  const dispute = (kind: string, eventId: string) =>
    sql`select money.handle_stripe_event(${eventId}, 'charge.dispute.x', ${
      sql.json({ kind, paymentIntentId: `pi_test_${disputed}`, disputeId: `dp_${disputed}`, currency: "usd" })
    })`;
  await dispute("dispute", `evt_created_${disputed}`);
  const results = await Promise.allSettled([
    ...Array.from({ length: 3 }, (_, i) => dispute("dispute_won", `evt_won_${i}_${disputed}`)),
    sql`select money.refund_purchase(${"pi_test_" + refunded}, 100000, 'USD', 'refund', ${
      "evt_r_" + refunded
    })`,
    sql`select money.request_withdrawal(gen_random_uuid(), ${upline.id}, 16000, 'USD', 'IBAN DE00')`,
  ]);
  // The withdrawal may lose the race to the clawback (then the balance is short); nothing else may fail.
  const failures = results.slice(0, 4).filter((r) => r.status === "rejected").map((r) => String(r.reason));
  assert.deepEqual(failures, []);
  const [state] = await sql<
    { won: number; status: string; violations: number; held: number; earned: number }[]
  >`
    select (select count(*)::int from event_store.events where type = 'DisputeWon'
            and stream_id = ${"purchase-" + disputed}) as won,
           (select status from public.purchases where purchase_id = ${disputed}) as status,
           (select count(*)::int from test_support.ledger_violations()) as violations,
           (select available_minor + in_transit_minor + owed_minor + withdrawn_minor + pending_minor
            from public.user_accounts where user_id = ${upline.id})::int as held,
           (select commission_minor + earned_minor from public.user_accounts where user_id = ${upline.id})::int as earned`;
  assert.deepEqual(
    { won: state!.won, status: state!.status, violations: state!.violations },
    { won: 1, status: "paid", violations: 0 },
  );
  // The upline keeps the 8,000 of the disputed-then-won purchase; the refunded one's 8,000 is gone.
  assert.equal(state!.earned, 8000);
  assert.equal(state!.held, 8000);
});

Deno.test("a refund that moves an upline's VIP level while a sibling branch buys: all succeed", async () => {
  const [pkg] = await sql<{ id: string }[]>`select test_support.package(100000, 100, 30) as id`;
  const [small] = await sql<{ id: string }[]>`select test_support.package(1000, 100, 30) as id`;
  const failures: string[] = [];
  for (let round = 0; round < 8; round++) {
    // The upline qualifies for VIP 2 through the buyer's purchase (two directs, team volume 100,000)
    // without earning on it; refunding it takes VIP 2 away (VipLevelChanged) while the other branch's
    // purchases lock the same upline.
    const upline = await signup(null);
    await buy(upline.id, pkg!.id);
    const left = await signup(upline.code);
    const right = await signup(upline.code);
    const buyer = await signup(left.code);
    const purchaseId = await buy(buyer.id, pkg!.id);
    // The premise: the upline stands at VIP 2 only through this purchase.
    const vipOf = async () =>
      (await sql<{ v: number }[]>`select vip_level as v from public.users where user_id = ${upline.id}`)[0]!
        .v;
    assert.equal(await vipOf(), 2);
    const results = await Promise.allSettled([
      sql`select money.refund_purchase(${"pi_test_" + purchaseId}, 100000, 'USD', 'refund', ${
        "evt_conc_" + purchaseId
      })`,
      // Small purchases, so the refund takes VIP 2 away whatever the order.
      ...Array.from({ length: 4 }, () => buy(right.id, small!.id)),
    ]);
    for (const r of results) if (r.status === "rejected") failures.push(String(r.reason));
    const [state] = await sql<
      { status: string }[]
    >`select status from public.purchases where purchase_id = ${purchaseId}`;
    assert.equal(state!.status, "refunded");
    assert.ok(await vipOf() < 2, "the refund took VIP 2 away while the other branch bought");
  }
  assert.deepEqual(failures, []);
  await sql.end();
});
