// The README's walkthrough through the typed client (clients/typescript/), against the local stack:
// an admin publishes a package; Alice buys; Bob signs up with her code and buys; Carol with Bob's; each
// purchase is paid with the signed webhook Stripe would send; the uplines' commissions are what the plan's
// rates say; after the holding period Alice passes KYC, verifies her address, withdraws, and an admin
// approves and marks it paid. Every answer is checked against its documented schema by the client itself.
import assert from "node:assert/strict";
import { AccrueClient, AccrueProblem } from "../clients/typescript/accrue_client.ts";
import { checkoutSessionEvent, randomSuffix, signatureFor } from "../devstack/stripe_test_events.ts";
import { PNG } from "../supabase/functions/kyc/kyc_test_support.ts";
import { tokenOf, waitForMail } from "./mail_support.ts";
import { fetchFrom, fn, loopbackIp, testSql, uniqueId } from "./support.ts";

const BASE_URL = fn("");
const WEBHOOK_SECRET = Deno.env.get("STRIPE_WEBHOOK_SECRET") ?? "whsec_local_development_secret";
const PASSWORD = "correct horse battery";

/** A client of its own, on a loopback address of its own (signups are limited per IP). */
function clientFromOwnAddress(): AccrueClient {
  const ip = loopbackIp();
  return new AccrueClient({ baseUrl: BASE_URL, fetch: (url, init) => fetchFrom(ip, url, init) });
}

/** What Stripe sends once Checkout has taken the money (as `./dev pay` does). */
async function pay(
  checkout: { purchaseId: string; stripeSessionId: string },
  amountMinor: number,
  currency: string,
) {
  const payload = JSON.stringify(checkoutSessionEvent("checkout.session.completed", {
    ...checkout,
    amountMinor,
    currency,
    paymentIntentId: `pi_walkthrough_${randomSuffix()}`,
  }));
  const answer = await fetch(fn("stripe-webhook"), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "stripe-signature": await signatureFor(payload, WEBHOOK_SECRET),
    },
    body: payload,
  });
  const body = await answer.json();
  assert.equal(answer.status, 200);
  assert.equal(body.outcome, "purchased", JSON.stringify(body));
}

Deno.test("the README walkthrough through the typed client: signup → referrals → pay → commissions → KYC → withdrawal → admin", async () => {
  const sql = testSql(2);
  try {
    const [settings] = await sql<{ currency: string }[]>`select currency from money.settings`;
    const currency = settings!.currency;
    /** The plan's rate for a level and the upline's VIP level, read from the plan (not assumed). */
    const rateBps = async (level: number, vipLevel: number) => {
      const [row] = await sql<{ rate_bps: number }[]>`
        select rate_bps from money.commission_rates where level = ${level} and vip_level = ${vipLevel}`;
      return row?.rate_bps ?? 0;
    };
    const priceMinor = 100_000; // a multiple of 10,000: any whole basis-point rate is an exact amount

    const admin = clientFromOwnAddress();
    const adminEmail = `${uniqueId("walk-admin")}@example.com`;
    await admin.signup({ email: adminEmail, password: PASSWORD });
    await sql`select private.promote_to_admin(${adminEmail})`; // what `./dev admin create` does
    await admin.login({ email: adminEmail, password: PASSWORD }); // a token with the admin role
    const pkg = await admin.call("adminCreatePackage", {
      body: { name: uniqueId("Walkthrough"), priceMinor, currency, dailyRateBps: 80, durationDays: 30 },
    });
    assert.equal(pkg.priceMinor, priceMinor);

    const alice = clientFromOwnAddress();
    const aliceEmail = `${uniqueId("walk-alice")}@example.com`;
    const aliceSession = await alice.signup({ email: aliceEmail, password: PASSWORD });
    const aliceCheckout = await alice.call("purchase", { body: { packageId: pkg.id } }, {
      idempotencyKey: "a-1",
    });
    const replayed = await alice.call("purchase", { body: { packageId: pkg.id } }, { idempotencyKey: "a-1" });
    assert.equal(
      replayed.purchaseId,
      aliceCheckout.purchaseId,
      "the same Idempotency-Key is the same purchase",
    );
    await pay(aliceCheckout, priceMinor, currency);
    const aliceVip = (await alice.call("me", {})).vipLevel;
    assert.ok(aliceVip >= 1, "a purchase of one's own makes VIP 1");

    const bob = clientFromOwnAddress();
    const bobSession = await bob.signup({
      email: `${uniqueId("walk-bob")}@example.com`,
      password: PASSWORD,
      referralCode: aliceSession.user.referralCode,
    });
    assert.equal(bobSession.user.referrerId, aliceSession.user.id);
    const bobCheckout = await bob.call("purchase", { body: { packageId: pkg.id } });
    await pay(bobCheckout, priceMinor, currency);
    const aliceLevel1Minor = priceMinor * await rateBps(1, aliceVip) / 10_000;
    assert.ok(aliceLevel1Minor > 0, "the plan pays level 1 to a VIP 1 upline");
    assert.equal(
      (await alice.call("account", {})).pendingMinor,
      aliceLevel1Minor,
      "Alice's share of Bob's purchase",
    );

    const aliceVipBeforeCarol = (await alice.call("me", {})).vipLevel;
    const bobVip = (await bob.call("me", {})).vipLevel;
    const carol = clientFromOwnAddress();
    await carol.signup({
      email: `${uniqueId("walk-carol")}@example.com`,
      password: PASSWORD,
      referralCode: bobSession.user.referralCode,
    });
    await pay(await carol.call("purchase", { body: { packageId: pkg.id } }), priceMinor, currency);
    assert.equal(
      (await bob.call("account", {})).pendingMinor,
      priceMinor * await rateBps(1, bobVip) / 10_000,
    );
    const aliceLevel2Minor = priceMinor * await rateBps(2, aliceVipBeforeCarol) / 10_000;
    const aliceAccount = await alice.call("account", {});
    assert.equal(aliceAccount.pendingMinor, aliceLevel1Minor + aliceLevel2Minor, "level 2 as the plan says");
    const network = await alice.call("network", {});
    assert.equal(network.directReferrals, 1);
    assert.equal(network.totalNetwork, 2);
    assert.deepEqual(network.levels.slice(0, 2).map((l) => [l.level, l.members, l.volumeMinor]), [
      [1, 1, priceMinor],
      [2, 1, priceMinor],
    ]);
    const contracts = await bob.call("contracts", {});
    assert.equal(contracts.items.length, 1);
    assert.equal(contracts.items[0]!.purchaseId, bobCheckout.purchaseId);

    // The holding period passes (the release job, run as of 15 days from now).
    await sql`select money.release_due_commissions(now() + interval '15 days')`;
    const released = await alice.call("account", {});
    assert.equal(released.availableMinor, aliceAccount.pendingMinor);
    assert.equal(released.pendingMinor, 0);

    // Money leaves only after KYC (and a verified address): the refusals are typed problems.
    const tooEarly = await alice.call("withdraw", {
      body: { amountMinor: released.availableMinor, currency, destination: "NL91 ABNA 0417 1643 00" },
    }).catch((e) => e);
    assert.ok(tooEarly instanceof AccrueProblem);
    assert.equal(tooEarly.status, 403);
    assert.equal(tooEarly.code, "kyc_required");

    const form = new FormData();
    form.append("fullName", "Alice Walkthrough");
    form.append("dateOfBirth", "1990-04-01");
    form.append("country", "NL");
    form.append("document", new Blob([PNG], { type: "image/png" }), "passport.png");
    const submitted = await alice.call("submitKyc", { form });
    const queue = await admin.call("adminKycQueue", { query: { status: "pending" }, limit: 100 });
    const pages = [];
    for await (const page of admin.pages("adminKycQueue", { query: { status: "pending" } })) pages.push(page);
    assert.ok(
      pages.flatMap((p) => p.items).some((c) => c.caseId === submitted.caseId),
      `the case is in the pending queue (first page: ${queue.items.length} cases)`,
    );
    const detail = await admin.call("adminKycCase", { params: { caseId: submitted.caseId } });
    assert.equal(detail.applicant?.fullName, "Alice Walkthrough");
    assert.equal(detail.documents.length, 1);
    const decided = await admin.call("adminDecideKyc", {
      params: { caseId: submitted.caseId },
      body: { decision: "approve" },
    });
    assert.equal(decided.status, "approved");
    assert.equal((await alice.call("kycStatus", {})).status, "approved");

    await alice.call("verifyEmail", {
      body: { token: tokenOf(await waitForMail(aliceEmail, /Verify your email/)) },
    });

    const tooMuch = await alice.call("withdraw", {
      body: { amountMinor: released.availableMinor + 1, currency, destination: "NL91 ABNA 0417 1643 00" },
    }).catch((e) => e);
    assert.ok(tooMuch instanceof AccrueProblem, String(tooMuch));
    assert.equal(tooMuch.code, "insufficient_funds");
    const withdrawal = await alice.call("withdraw", {
      body: { amountMinor: released.availableMinor, currency, destination: "NL91 ABNA 0417 1643 00" },
    }, { idempotencyKey: "alice-w-1" });
    assert.equal(withdrawal.status, "pending");
    const sameWithdrawal = await alice.call("withdraw", {
      body: { amountMinor: released.availableMinor, currency, destination: "NL91 ABNA 0417 1643 00" },
    }, { idempotencyKey: "alice-w-1" });
    assert.equal(sameWithdrawal.id, withdrawal.id, "a retried request with its key withdraws once");

    let pending = false;
    for await (const page of admin.pages("adminWithdrawals", { query: { status: "pending" }, limit: 100 })) {
      if (page.items.some((w) => w.id === withdrawal.id && w.userId === aliceSession.user.id)) pending = true;
    }
    assert.ok(pending, "the withdrawal waits in the admins' queue");
    const forbidden = await alice.call("adminWithdrawals", {}).catch((e) => e);
    assert.ok(forbidden instanceof AccrueProblem);
    assert.equal(forbidden.status, 403);
    await admin.call("adminDecideWithdrawal", {
      params: { id: withdrawal.id },
      body: { decision: "approve" },
    });
    const paid = await admin.call("adminDecideWithdrawal", {
      params: { id: withdrawal.id },
      body: { decision: "mark_paid", reference: "bank-transfer-1" },
    });
    assert.equal(paid.status, "paid");

    const overview = await admin.call("adminUser", {
      params: { id: aliceSession.user.id },
      query: { limit: 5 },
    });
    assert.equal(overview.profile.email, aliceEmail);
    assert.equal(overview.withdrawals.total, 1);
    assert.equal(overview.balances.withdrawnMinor, released.availableMinor);
    const mine = await alice.call("listWithdrawals", {});
    assert.deepEqual(mine.items.map((w) => [w.id, w.status, w.reference]), [[
      withdrawal.id,
      "paid",
      "bank-transfer-1",
    ]]);
    const after = await alice.call("account", {});
    assert.equal(after.availableMinor, 0);
    assert.equal(after.withdrawnMinor, released.availableMinor);

    // An access token that no longer works is traded for a new pair once, with the refresh token.
    const refreshTokenBefore = alice.refreshToken;
    alice.accessToken = "not-a-token";
    assert.equal((await alice.call("me", {})).id, aliceSession.user.id);
    assert.notEqual(alice.refreshToken, refreshTokenBefore, "the client rotated its refresh token");
  } finally {
    await sql.end();
  }
});
