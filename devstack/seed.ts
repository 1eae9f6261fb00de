// ./dev seed [--users N] [--days D]: a realistic dataset on the local stack, made through the real
// commands, with a progress bar and a summary.
//
//   signups     private.register_user, the SQL command POST /auth/signup calls, in batches (the HTTP route
//               allows 3 signups an hour per IP). Password hashing is done once: every seeded user logs in
//               with the password "correct horse battery". The tree grows by preferential attachment (a
//               new user is referred by an existing one with probability proportional to 1 + their direct
//               referrals; 8% sign up without a code), which gives the few big networks and the long tail
//               of small ones real referral programmes have.
//   purchases   65% of users buy, a fifth of those twice (Starter 60%, Growth 30%, Premium 10%):
//               money.start_checkout, then money.complete_purchase, what the webhook calls for a paid
//               Checkout Session, with its injected clock set to a time in the last D days, so contracts
//               have D days of hourly earnings. The accrue-earnings job is paused meanwhile (no period
//               may be accrued before every backdated contract exists) and run, then resumed, after.
//   webhooks    the last purchases, the refunds and the disputes go through the gateway as Stripe-signed
//               webhooks (checkout.session.completed, charge.refunded, charge.dispute.created).
//   KYC         kyc.submit_case and kyc.record_decision: cases pending, approved, rejected (some final),
//               resubmission requested, and approved then revoked.
//   withdrawals approved users with earnings verify their address (private.request_email_verification,
//               private.verify_email) and money.request_withdrawal; an admin approves, pays or rejects some
//               (money.decide_withdrawal). The seed admin is seed-admin@example.test (same password).
//
// Signups and purchases run in lanes (SEED_WORKERS, default 3) of whole referral networks, one connection
// each, so they get more of the machine; the commands themselves are where the time goes (README, Seed data).
//
// Backdating has limits: signups, checkouts, payments (paid_at, commission holds), refunds and KYC carry
// the time they are made (today); only contracts start over the last D days, which gives them earnings. On a stack whose
// earnings already ran up to now, payments cannot be backdated before that (they would start in periods
// already accrued) and fall between the earnings watermark and now.
import postgres from "postgres";
import { prng } from "../tests/simulation/prng.ts";
import { hashPassword } from "../supabase/functions/_shared/auth/password_hash.ts";
import {
  chargeRefundedEvent,
  checkoutSessionEvent,
  disputeCreatedEvent,
  randomSuffix,
  signatureFor,
} from "./stripe_test_events.ts";

const usage = "usage: ./dev seed [--users N] [--days D]   (N 1-1000000, default 1000; D 0-30, default 3)";
const args = parseArgs(Deno.args);
const databaseUrl = Deno.env.get("DATABASE_URL") ?? "postgres://postgres@127.0.0.1:54322/postgres";
const apiUrl = Deno.env.get("API_URL") ?? "http://127.0.0.1:54321";
const webhookSecret = Deno.env.get("STRIPE_WEBHOOK_SECRET") ?? "whsec_local_development_secret";
const PASSWORD = "correct horse battery";

// Shares of the dataset (why these: a plausible referral shop, and every state present at 1,000 users).
const ROOT_SHARE = 0.08;
const BUYER_SHARE = 0.65;
const REPEAT_BUYER_SHARE = 0.2;
const REFUND_SHARE = 0.03;
const DISPUTE_SHARE = 0.003;
const KYC_SHARE = 0.05;
const WEBHOOK_PURCHASES_MAX = 100;
const WITHDRAWALS_MAX = 500;
// Batches: one statement per batch keeps round trips few; purchases run one batch at a time because
// every purchase locks its uplines, and the roots of big networks are everyone's uplines.
const USER_BATCH = 500;
const PURCHASE_BATCH = 200;
const WEBHOOKS_IN_FLIGHT = 4;
// Signups and purchases run in this many lanes at once, each a set of whole referral networks (a root and
// everyone under it): a purchase locks its buyer's uplines, which never lie in another lane's networks,
// so lanes do not wait on each other's users. Three: one more than the development machine's cores, so
// a lane waiting on its client or on the platform's ledger rows (which every lane writes) leaves no core
// idle; 2,000 users took 64.6 s with three lanes and 104.2 s with one (README, Seed data).
const WORKERS = Math.max(1, Number(Deno.env.get("SEED_WORKERS") ?? 3));

// Seeded, so SEED_RANDOM replays the same shape (ids are random regardless).
const random = prng(Number(Deno.env.get("SEED_RANDOM") ?? 20261202));
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const sql = postgres(databaseUrl, { prepare: false, max: WORKERS + 1, onnotice: () => {} });
const runId = randomSuffix().slice(0, 8);
const startedMs = performance.now();
const phaseMs: Record<string, number> = {};
const meta = { requestId: `seed-${runId}` };
let deadlocksRetried = 0;

try {
  await main();
} finally {
  await sql.end();
}

async function main() {
  const packages = await sql<{ package_id: string; name: string; price_minor: string; currency: string }[]>`
    select package_id, name, price_minor::text, currency from public.packages
    where status = 'active' and name in ('Starter', 'Growth', 'Premium') order by price_minor`;
  if (packages.length === 0) throw new Error("no demo catalog (supabase/seed.sql): run ./dev up first");
  const packageWeights = [0.6, 0.3, 0.1].slice(0, packages.length);

  const admin = await seedAdmin();
  log(`seeding ${args.users} users, ${args.days} days of payments (run ${runId})`);

  // Users ------------------------------------------------------------------------------------------
  let t = performance.now();
  const passwordHash = await hashPassword(PASSWORD);
  const users = buildTree(args.users);
  const bar = progress("users", users.length);
  const lanes = lanesOf(users, WORKERS);
  await Promise.all(lanes.map(async (lane) => {
    const laneUsers = users.filter((u) => lane.has(u.index));
    for (let i = 0; i < laneUsers.length; i += USER_BATCH) {
      const batch = laneUsers.slice(i, i + USER_BATCH).map((u, k) => ({
        ord: k,
        id: u.id,
        email: `seed-${runId}-${u.index}@example.test`,
        code: u.code,
        ref: u.referrer === null ? null : users[u.referrer]!.code,
      }));
      await retryOnDeadlock(() =>
        sql`
        select count(private.register_user(u.id, u.email, ${passwordHash}, u.code, u.ref, gen_random_uuid(),
          encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'), 2592000, ${sql.json(meta)}))
        from (select * from jsonb_to_recordset(${
          sql.json(batch)
        }) as x(ord int, id uuid, email text, code text, ref text)
              order by ord) u`
      );
      bar.tick(batch.length);
    }
  }));
  bar.done();
  phaseMs.users = performance.now() - t;

  // Backdated purchases ------------------------------------------------------------------------------
  t = performance.now();
  type Purchase = { id: string; userId: string; packageIndex: number; paidAt: Date; paymentIntentId: string };
  const purchases: Purchase[] = [];
  const paused = await pauseEarnings();
  const stopListening = resumeEarningsOnInterrupt(paused);
  let earnings: { periods: number; contracts: number; totalMinor: number } = {
    periods: 0,
    contracts: 0,
    totalMinor: 0,
  };
  try {
    const [{ watermark, now }] = await sql<{ watermark: Date | null; now: Date }[]>`
      select money.earnings_watermark() as watermark, now() as now` as unknown as [
      { watermark: Date | null; now: Date },
    ];
    const fromMs = Math.max(now.getTime() - args.days * 86_400_000, watermark?.getTime() ?? 0);
    const toMs = now.getTime() - 60_000;
    for (const u of users) {
      if (random() >= BUYER_SHARE) continue;
      const times = random() < REPEAT_BUYER_SHARE ? 2 : 1;
      for (let k = 0; k < times; k++) {
        const id = crypto.randomUUID();
        purchases.push({
          id,
          userId: u.id,
          packageIndex: weighted(packageWeights),
          paidAt: new Date(fromMs + random() * Math.max(0, toMs - fromMs)),
          paymentIntentId: `pi_seed_${id.replaceAll("-", "").slice(0, 24)}`,
        });
      }
    }
    purchases.sort((a, b) => a.paidAt.getTime() - b.paidAt.getTime());
    const pbar = progress("purchases", purchases.length);
    const laneOfUser = new Map(users.map((u) => [u.id, lanes.findIndex((lane) => lane.has(u.index))]));
    await Promise.all(lanes.map(async (_, laneIndex) => {
      const lanePurchases = purchases.filter((p) => laneOfUser.get(p.userId) === laneIndex);
      for (let i = 0; i < lanePurchases.length; i += PURCHASE_BATCH) {
        const batch = lanePurchases.slice(i, i + PURCHASE_BATCH).map((p, k) => ({
          ord: k,
          id: p.id,
          user_id: p.userId,
          package_id: packages[p.packageIndex]!.package_id,
          amount: Number(packages[p.packageIndex]!.price_minor),
          currency: packages[p.packageIndex]!.currency,
          pi: p.paymentIntentId,
          at: p.paidAt.toISOString(),
        }));
        const rows = sql.json(batch);
        await retryOnDeadlock(() =>
          sql.begin(async (tx) => {
            await tx`
            select count(money.start_checkout(p.id, p.user_id, p.package_id, 'cs_seed_' || p.id, ${
              sql.json(meta)
            }))
            from (select * from jsonb_to_recordset(${rows}) as x(ord int, id uuid, user_id uuid, package_id uuid)
                  order by ord) p`;
            await tx`
            select count(money.complete_purchase(p.id, p.pi, p.amount, p.currency, ${sql.json(meta)}, p.at))
            from (select * from jsonb_to_recordset(${rows}) as x(ord int, id uuid, pi text, amount bigint,
                  currency text, at timestamptz) order by ord) p`;
          })
        );
        pbar.tick(batch.length);
      }
    }));
    pbar.done();
    phaseMs.purchases = performance.now() - t;

    // The job pg_cron runs, over every period the backdated contracts have seen.
    t = performance.now();
    log("accruing earnings (money.run_earnings_job, every due hour)");
    for (;;) {
      const [{ r }] = await sql<{ r: { periods: number; contracts: number; totalMinor: number } }[]>`
        select money.run_earnings_job() as r` as unknown as [{ r: typeof earnings & { error?: string } }];
      if (r.error !== undefined) throw new Error(`the earnings run failed: ${r.error}`);
      earnings = {
        periods: earnings.periods + Number(r.periods),
        contracts: Math.max(earnings.contracts, Number(r.contracts)),
        totalMinor: earnings.totalMinor + Number(r.totalMinor),
      };
      if (Number(r.periods) === 0) break;
    }
    phaseMs.earnings = performance.now() - t;
  } finally {
    stopListening();
    await resumeEarnings(paused);
  }

  // Webhooks through the gateway ----------------------------------------------------------------------
  t = performance.now();
  const webhookBuyers = Array.from(
    { length: Math.min(WEBHOOK_PURCHASES_MAX, users.length) },
    () => pick(users),
  );
  const webhookPurchases = webhookBuyers.map((u) => ({
    id: crypto.randomUUID(),
    userId: u.id,
    packageIndex: weighted(packageWeights),
    paymentIntentId: `pi_seed_${randomSuffix()}`,
  }));
  if (webhookPurchases.length > 0) {
    await sql`
      select count(money.start_checkout(p.id, p.user_id, p.package_id, 'cs_seed_' || p.id, ${sql.json(meta)}))
      from jsonb_to_recordset(${
      sql.json(webhookPurchases.map((p) => ({
        id: p.id,
        user_id: p.userId,
        package_id: packages[p.packageIndex]!.package_id,
      })))
    }) as p(id uuid, user_id uuid, package_id uuid)`;
  }
  const refunded = purchases.filter(() => random() < REFUND_SHARE);
  const disputed = purchases.filter((p) => !refunded.includes(p) && random() < DISPUTE_SHARE);
  const priceOf = (p: { packageIndex: number }) => Number(packages[p.packageIndex]!.price_minor);
  const currencyOf = (p: { packageIndex: number }) => packages[p.packageIndex]!.currency;
  const webhookEvents = [
    ...webhookPurchases.map((p) =>
      checkoutSessionEvent("checkout.session.completed", {
        purchaseId: p.id,
        stripeSessionId: `cs_seed_${p.id}`,
        amountMinor: priceOf(p),
        currency: currencyOf(p),
        paymentIntentId: p.paymentIntentId,
      })
    ),
    // A third of the refunds are partial (half the price), the rest full.
    ...refunded.map((p, i) =>
      chargeRefundedEvent(
        p.paymentIntentId,
        priceOf(p),
        i % 3 === 0 ? Math.floor(priceOf(p) / 2) : priceOf(p),
        currencyOf(p),
      )
    ),
    ...disputed.map((p) => disputeCreatedEvent(p.paymentIntentId, priceOf(p), currencyOf(p))),
  ];
  const wbar = progress("webhooks", webhookEvents.length);
  const outcomes: Record<string, number> = {};
  let next = 0;
  await Promise.all(Array.from({ length: WEBHOOKS_IN_FLIGHT }, async () => {
    while (next < webhookEvents.length) {
      const event = webhookEvents[next++]!;
      const payload = JSON.stringify(event);
      const response = await fetch(`${apiUrl}/functions/v1/stripe-webhook`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "stripe-signature": await signatureFor(payload, webhookSecret),
        },
        body: payload,
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`webhook ${event.type} answered ${response.status}: ${text}`);
      const outcome = `${event.type} → ${(JSON.parse(text) as { outcome?: string }).outcome ?? "?"}`;
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      wbar.tick(1);
    }
  }));
  wbar.done();
  phaseMs.webhooks = performance.now() - t;

  // KYC ------------------------------------------------------------------------------------------------
  t = performance.now();
  // Outcome per case, in turn, so every state is present: pending, approved (twice as often), rejected,
  // resubmission requested, rejected for good, approved then revoked. Those approved are the users with
  // the most available (the ones who would ask to withdraw); the others are drawn at random.
  const plans = ["pending", "approved", "approved", "rejected", "resubmission", "final", "revoked"] as const;
  const caseCount = Math.min(users.length, Math.max(plans.length, Math.round(users.length * KYC_SHARE)));
  const approvedCount = plans.filter((p) => p === "approved").length * Math.floor(caseCount / plans.length);
  const richest = (await sql<{ user_id: string }[]>`
    select user_id from public.user_accounts where user_id = any(${users.map((u) => u.id)}::uuid[])
    order by available_minor desc, user_id limit ${approvedCount}`).map((r) => r.user_id);
  const taken = new Set(richest);
  const others = users.map((u) => u.id).filter((id) => !taken.has(id));
  for (let i = others.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [others[i], others[j]] = [others[j]!, others[i]!];
  }
  const otherPlans = plans.filter((p) => p !== "approved");
  const cases = [
    ...richest.map((id) => ({ id, plan: "approved" as (typeof plans)[number] })),
    ...others.slice(0, caseCount - richest.length).map((id, i) => ({
      id,
      plan: otherPlans[i % otherPlans.length]!,
    })),
  ].map((c, i) => ({
    ord: i,
    case_id: crypto.randomUUID(),
    user_id: c.id,
    document_id: crypto.randomUUID(),
    plan: c.plan,
  }));
  const kbar = progress("KYC cases", cases.length);
  for (let i = 0; i < cases.length; i += USER_BATCH) {
    const batch = cases.slice(i, i + USER_BATCH);
    await sql`
      select count(kyc.submit_case(
        jsonb_build_object('type', 'KycSubmitted', 'schemaVersion', 1, 'data', jsonb_build_object('caseId', c.case_id,
          'userId', c.user_id, 'documents', jsonb_build_array(jsonb_build_object('documentId', c.document_id,
          'sha256', encode(sha256(convert_to(c.document_id::text, 'UTF8')), 'hex'))))),
        jsonb_build_object('fullName', 'Seed User ' || c.ord, 'dateOfBirth', '1990-01-01', 'country', 'DE'),
        jsonb_build_array(jsonb_build_object('documentId', c.document_id,
          'sha256', encode(sha256(convert_to(c.document_id::text, 'UTF8')), 'hex'), 'contentType', 'image/png',
          'sizeBytes', 68, 'storageKey', c.user_id || '/' || c.case_id || '/' || c.document_id)),
        ${sql.json(meta)}))
      from jsonb_to_recordset(${
      sql.json(batch)
    }) as c(ord int, case_id uuid, user_id uuid, document_id uuid)`;
    kbar.tick(batch.length);
  }
  kbar.done();
  const decide = async (type: string, plansFor: string[], final: boolean | null, reason: string | null) => {
    const ids = cases.filter((c) => plansFor.includes(c.plan)).map((c) => c.case_id);
    if (ids.length === 0) return;
    await sql`
      select count(kyc.record_decision(jsonb_build_object('type', ${type}::text, 'schemaVersion', 1, 'data',
          jsonb_build_object('caseId', c.case_id, 'userId', c.user_id, 'adminId', ${admin}::uuid)
          || case when ${final}::boolean is null then '{}'::jsonb else jsonb_build_object('final', ${final}::boolean) end),
        c.version, ${reason}, 'seeded', ${sql.json(meta)}))
      from public.kyc_cases c where c.case_id = any(${ids}::uuid[])`;
  };
  await decide("KycApproved", ["approved", "revoked"], null, null);
  await decide("KycRejected", ["rejected"], false, "document_unreadable");
  await decide("KycRejected", ["final"], true, "document_forged");
  await decide("KycResubmissionRequested", ["resubmission"], null, "document_expired");
  await decide("KycApprovalRevoked", ["revoked"], false, "document_forged");
  phaseMs.kyc = performance.now() - t;

  // Withdrawals -------------------------------------------------------------------------------------
  t = performance.now();
  const approved = cases.filter((c) => c.plan === "approved").map((c) => c.user_id);
  const funded = await sql<{ user_id: string; available_minor: string }[]>`
    select a.user_id, a.available_minor::text from public.user_accounts a
    where a.user_id = any(${approved}::uuid[]) and a.available_minor >= (money.settings()).withdrawal_min_minor
    order by a.user_id limit ${WITHDRAWALS_MAX}`;
  const withdrawals = funded.map((f, i) => ({
    ord: i,
    withdrawal_id: crypto.randomUUID(),
    user_id: f.user_id,
    // Between the minimum and everything available.
    amount: Math.max(1000, Math.floor(Number(f.available_minor) * (0.3 + 0.7 * random()))),
    token: `seed-${randomSuffix()}`,
    decision: (["pending", "approve", "paid", "paid", "reject"] as const)[i % 5]!,
  }));
  const currency = (await sql<{ currency: string }[]>`select (money.settings()).currency`)[0]!.currency;
  if (withdrawals.length > 0) {
    const rows = sql.json(withdrawals);
    // The address must be verified before money leaves: the link signup mails, then its use.
    await sql`
      select count(private.request_email_verification(w.user_id, encode(sha256(convert_to(w.token, 'UTF8')), 'hex'),
        w.token, 3600))
      from jsonb_to_recordset(${rows}) as w(user_id uuid, token text)`;
    await sql`
      select count(private.verify_email(encode(sha256(convert_to(w.token, 'UTF8')), 'hex'), ${
      sql.json(meta)
    }))
      from jsonb_to_recordset(${rows}) as w(token text)`;
    await sql`
      select count(money.request_withdrawal(w.withdrawal_id, w.user_id, w.amount, ${currency},
        'IBAN DE89 3704 0044 0532 0130 00 (seed)', ${sql.json(meta)}))
      from jsonb_to_recordset(${rows}) as w(withdrawal_id uuid, user_id uuid, amount bigint)`;
    const decideAll = async (
      decision: string,
      which: string[],
      reference: string | null,
      reason: string | null,
    ) => {
      const ids = withdrawals.filter((w) => which.includes(w.decision)).map((w) => w.withdrawal_id);
      if (ids.length === 0) return;
      await sql`
        select count(money.decide_withdrawal(id, ${admin}::uuid, ${decision}, ${reference}, ${reason}, ${
        sql.json(meta)
      }))
        from unnest(${ids}::uuid[]) as id`;
    };
    await decideAll("approve", ["approve", "paid"], null, null);
    await decideAll("mark_paid", ["paid"], `seed-payout-${runId}`, null);
    await decideAll("reject", ["reject"], null, "destination_invalid");
  }
  phaseMs.withdrawals = performance.now() - t;

  t = performance.now();
  await sql`select private.refresh_analytics()`;
  phaseMs.analytics = performance.now() - t;

  await summary(users, purchases.length + webhookPurchases.length, earnings, outcomes);
}

// The seed's admin (decides KYC cases and withdrawals; can log in, with the seed password).
async function seedAdmin(): Promise<string> {
  const email = "seed-admin@example.test";
  const [existing] = await sql<
    { user_id: string }[]
  >`select user_id from private.profiles where email = ${email}`;
  if (!existing) {
    const id = crypto.randomUUID();
    await sql`
      select private.register_user(${id}::uuid, ${email}, ${await hashPassword(
      PASSWORD,
    )}, ${referralCode()}, null,
        gen_random_uuid(), encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'), 2592000,
        ${sql.json(meta)})`;
  }
  const [row] = await sql<{ id: string }[]>`select private.promote_to_admin(${email}) as id`;
  return row!.id;
}

async function pauseEarnings(): Promise<boolean> {
  const rows = await sql`
    select cron.alter_job(jobid, active := false) from cron.job where jobname = 'accrue-earnings' and active`;
  // A run already started finishes under its lock; wait for it before reading the watermark.
  await sql`select pg_advisory_xact_lock(hashtextextended('accrue:earnings', 0))`;
  return rows.length > 0;
}

async function resumeEarnings(paused: boolean) {
  if (paused) {
    await sql`select cron.alter_job(jobid, active := true) from cron.job where jobname = 'accrue-earnings'`;
  }
}

// Ctrl-C while the job is paused would leave it paused (an exit runs no finally): resume it first.
// (The open batch rolls back when its connection closes.)
function resumeEarningsOnInterrupt(paused: boolean): () => void {
  const onInterrupt = () => {
    console.error("\n[seed] interrupted: resuming the accrue-earnings job");
    resumeEarnings(paused).finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  return () => Deno.removeSignalListener("SIGINT", onInterrupt);
}

async function summary(
  users: TreeUser[],
  purchases: number,
  earnings: { periods: number; contracts: number; totalMinor: number },
  outcomes: Record<string, number>,
) {
  const depths = new Map<number, number>();
  for (const u of users) depths.set(u.depth, (depths.get(u.depth) ?? 0) + 1);
  const maxDepth = Math.max(...depths.keys());
  const ids = users.map((u) => u.id);
  const [kyc, withdrawals, vip, money] = await Promise.all([
    sql`select status, count(*)::int as n from public.kyc_cases where user_id = any(${ids}::uuid[]) group by 1 order by 1`,
    sql`select status, count(*)::int as n from public.withdrawals where user_id = any(${ids}::uuid[]) group by 1 order by 1`,
    sql`select vip_level, count(*)::int as n from public.users where user_id = any(${ids}::uuid[]) group by 1 order by 1`,
    sql`select count(*)::int as purchases, count(*) filter (where status <> 'paid')::int as refunded_or_disputed,
               coalesce(sum(amount_minor - refunded_minor), 0)::text as net_minor
        from public.purchases where user_id = any(${ids}::uuid[]) and paid_at is not null`,
  ]);
  const totalS = (performance.now() - startedMs) / 1000;
  const lines = [
    "",
    `seeded in ${totalS.toFixed(1)} s (${
      Object.entries(phaseMs).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(", ")
    }; ${WORKERS} lanes, ${deadlocksRetried} batches retried after a deadlock)`,
    `users        ${users.length} (roots ${depths.get(0) ?? 0}; depth p50 ${percentile(users, 0.5)}, p90 ${
      percentile(users, 0.9)
    }, max ${maxDepth}); password "${PASSWORD}"; admin seed-admin@example.test`,
    `VIP          ${vip.map((r) => `${r.vip_level}: ${r.n}`).join(", ")}`,
    `purchases    ${purchases} made, ${money[0]!.purchases} paid (${
      money[0]!.refunded_or_disputed
    } refunded or disputed since), net ${money[0]!.net_minor} minor units`,
    `earnings     ${earnings.periods} hour periods accrued, ${earnings.totalMinor} minor units`,
    `webhooks     ${Object.entries(outcomes).map(([k, v]) => `${k}: ${v}`).join(", ") || "none"}`,
    `KYC cases    ${kyc.map((r) => `${r.status}: ${r.n}`).join(", ")}`,
    `withdrawals  ${
      withdrawals.map((r) => `${r.status}: ${r.n}`).join(", ") || "none (nobody had enough available)"
    }`,
    "analytics    refreshed (select * from analytics.network_growth / vip_distribution / buyer_retention ...)",
  ];
  console.log(lines.join("\n"));
}

// The referral tree ------------------------------------------------------------------------------------
type TreeUser = { index: number; id: string; code: string; referrer: number | null; depth: number };

function buildTree(n: number): TreeUser[] {
  const users: TreeUser[] = [];
  // Each user appears once, plus once per direct referral: drawing from it is preferential attachment.
  const slots: number[] = [];
  const codes = new Set<string>();
  for (let i = 0; i < n; i++) {
    let code = referralCode();
    while (codes.has(code)) code = referralCode();
    codes.add(code);
    const referrer = i === 0 || random() < ROOT_SHARE ? null : slots[Math.floor(random() * slots.length)]!;
    users.push({
      index: i,
      id: crypto.randomUUID(),
      code,
      referrer,
      depth: referrer === null ? 0 : users[referrer]!.depth + 1,
    });
    slots.push(i);
    if (referrer !== null) slots.push(referrer);
  }
  return users;
}

/** Whole networks (a root and its descendants) into `count` lanes of about equal size, the largest first
 * into the smallest lane. Each lane is the set of its users' indexes. */
function lanesOf(users: TreeUser[], count: number): Set<number>[] {
  const rootOf: number[] = [];
  for (const u of users) rootOf.push(u.referrer === null ? u.index : rootOf[u.referrer]!);
  const networks = new Map<number, number[]>();
  for (const u of users) {
    const members = networks.get(rootOf[u.index]!) ?? [];
    members.push(u.index);
    networks.set(rootOf[u.index]!, members);
  }
  const lanes = Array.from({ length: count }, () => new Set<number>());
  for (const members of [...networks.values()].sort((a, b) => b.length - a.length)) {
    const smallest = lanes.reduce((min, lane) => lane.size < min.size ? lane : min);
    for (const index of members) smallest.add(index);
  }
  return lanes.filter((lane) => lane.size > 0);
}

/** A batch is one transaction: a deadlock (40P01) rolls all of it back, so running it again is safe. Lanes
 * share a few rows (the platform's ledger accounts), so one is possible, if rare. */
async function retryOnDeadlock<T>(batch: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await batch();
    } catch (error) {
      if ((error as { code?: string }).code !== "40P01" || attempt >= 5) throw error;
      deadlocksRetried++;
    }
  }
}

function percentile(users: TreeUser[], q: number): number {
  const sorted = users.map((u) => u.depth).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

// Codes are random whatever SEED_RANDOM says: a second seed run must not draw the first run's codes.
function referralCode(): string {
  const alphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ";
  return Array.from(crypto.getRandomValues(new Uint32Array(8)), (n) => alphabet[n % alphabet.length]).join(
    "",
  );
}

// Helpers ------------------------------------------------------------------------------------------------
function weighted(weights: number[]): number {
  let r = random() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r < 0) return i;
  }
  return weights.length - 1;
}

function progress(label: string, total: number) {
  const tty = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  const started = performance.now();
  let done = 0;
  let lastTenth = -1;
  const draw = () => {
    const share = total === 0 ? 1 : done / total;
    const rate = done / Math.max(0.001, (performance.now() - started) / 1000);
    const line = `${label.padEnd(10)} [${"#".repeat(Math.round(share * 30)).padEnd(30)}] ${
      (share * 100).toFixed(0).padStart(3)
    }% ${done}/${total} (${rate.toFixed(0)}/s)`;
    if (tty) Deno.stderr.writeSync(encoder.encode(`\r${line}`));
    else if (Math.floor(share * 10) !== lastTenth) {
      lastTenth = Math.floor(share * 10);
      console.error(line);
    }
  };
  return {
    tick(k: number) {
      done += k;
      draw();
    },
    done() {
      draw();
      if (tty) Deno.stderr.writeSync(encoder.encode("\n"));
    },
  };
}

function log(message: string) {
  console.error(`[seed] ${message}`);
}

function parseArgs(argv: string[]): { users: number; days: number } {
  const out = { users: 1000, days: 3 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = Number(argv[i + 1]);
    if (flag === "--users" && Number.isInteger(value) && value >= 1 && value <= 1_000_000) out.users = value;
    else if (flag === "--days" && Number.isInteger(value) && value >= 0 && value <= 30) out.days = value;
    else {
      console.error(usage);
      Deno.exit(2);
    }
    i++;
  }
  return out;
}
