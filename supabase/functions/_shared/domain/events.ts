// The domain event union (CONTRACT.md "Domain events"). Every append is validated against it.
// Money events carry amounts and ids only, never personal data (that lives in erasable tables).
import { z } from "zod";

const id = z.uuid();
const amountMinor = z.number().int().safe();
const currency = z.string().regex(/^[A-Z]{3}$/);
const at = z.iso.datetime({ offset: true });
const reasonCode = z.string().regex(/^[a-z][a-z0-9_]{1,39}$/);
const role = z.enum(["user", "admin"]);

/** Each event type with its current schema version and the shape of its data. */
export const eventSchemas = {
  UserRegistered: {
    version: 1,
    data: z.strictObject({ userId: id, referrerId: id.nullable(), referralCode: z.string().min(4).max(16) }),
  },
  /** The user proved they receive mail at their address (a verification link). */
  EmailVerified: { version: 1, data: z.strictObject({ userId: id }) },
  /** reset: through an emailed reset link; change: signed in, with the current password. */
  PasswordChanged: { version: 1, data: z.strictObject({ userId: id, reason: z.enum(["reset", "change"]) }) },
  PackagePublished: {
    version: 1,
    data: z.strictObject({
      packageId: id,
      name: z.string().min(1).max(100),
      priceMinor: amountMinor.positive(),
      currency,
      dailyRateBps: z.number().int().min(1).max(10_000),
      durationDays: z.number().int().min(1).max(3650),
    }),
  },
  PackageRetired: { version: 1, data: z.strictObject({ packageId: id }) },
  CheckoutStarted: {
    version: 1,
    data: z.strictObject({
      purchaseId: id,
      userId: id,
      packageId: id,
      amountMinor,
      currency,
      stripeSessionId: z.string(),
    }),
  },
  /** Not in the contract's list: a Checkout Session whose asynchronous payment failed. */
  CheckoutFailed: { version: 1, data: z.strictObject({ purchaseId: id, stripeEventId: z.string() }) },
  Purchased: {
    version: 1,
    data: z.strictObject({
      purchaseId: id,
      userId: id,
      packageId: id,
      amountMinor,
      currency,
      paymentIntentId: z.string().nullable(),
      contractId: id,
      dailyRateBps: z.number().int(),
      durationDays: z.number().int(),
      startsAt: at,
      endsAt: at,
    }),
  },
  /** amountMinor is this refund; refundedTotalMinor is Stripe's cumulative amount_refunded. */
  PurchaseRefunded: {
    version: 1,
    data: z.strictObject({
      purchaseId: id,
      amountMinor,
      refundedTotalMinor: amountMinor,
      currency,
      stripeEventId: z.string(),
    }),
  },
  /** disputeId: Stripe's dispute id (absent on disputes recorded before it was kept). */
  PurchaseDisputed: {
    version: 1,
    data: z.strictObject({
      purchaseId: id,
      amountMinor,
      currency,
      stripeEventId: z.string(),
      disputeId: z.string().optional(),
    }),
  },
  /** The platform won the dispute: amountMinor (what the dispute took) stands again. */
  DisputeWon: {
    version: 1,
    data: z.strictObject({
      purchaseId: id,
      disputeId: z.string(),
      amountMinor,
      currency,
      stripeEventId: z.string(),
    }),
  },
  /** beneficiaryId null: the level's share goes to the platform account, and `reason` says why. */
  CommissionAccrued: {
    version: 1,
    data: z.strictObject({
      commissionId: id,
      purchaseId: id,
      beneficiaryId: id.nullable(),
      level: z.number().int().min(1).max(10),
      vipLevel: z.number().int().min(0).max(10).nullable(),
      rateBps: z.number().int().min(0).max(10_000),
      amountMinor,
      currency,
      releasesAt: at,
      reason: z.enum(["earned", "no_upline", "vip_ineligible"]),
    }),
  },
  CommissionReleased: { version: 1, data: z.strictObject({ commissionId: id, amountMinor, currency }) },
  /** A reversal inside the hold takes from pending; after it, a clawback takes from available and
   * records what the balance could not cover as owed. */
  CommissionReversed: {
    version: 1,
    data: z.strictObject({
      commissionId: id,
      amountMinor,
      fromPendingMinor: amountMinor,
      fromAvailableMinor: amountMinor,
      owedMinor: amountMinor,
      currency,
      /** refund: a refund or dispute's share; vip_recomputed: earned above a VIP level since lost. */
      reason: z.enum(["refund", "vip_recomputed"]).optional(),
    }),
  },
  /** A won dispute gives back what it reversed: to pending inside the hold, else to available. */
  CommissionRestored: {
    version: 1,
    data: z.strictObject({ commissionId: id, amountMinor, toPendingMinor: amountMinor, currency }),
  },
  /** The earnings paid on a refunded or disputed contract, clawed back in proportion. */
  EarningsReversed: {
    version: 1,
    data: z.strictObject({
      contractId: id,
      purchaseId: id,
      userId: id,
      amountMinor,
      fromAvailableMinor: amountMinor,
      owedMinor: amountMinor,
      currency,
    }),
  },
  /** A won dispute: restoredMinor of the clawed-back earnings, plus the periods a resumed contract missed. */
  EarningsRestored: {
    version: 1,
    data: z.strictObject({
      contractId: id,
      purchaseId: id,
      userId: id,
      amountMinor,
      restoredMinor: amountMinor,
      currency,
    }),
  },
  /** One chunk of a period: the users in [usersFrom, usersBefore); an absent bound is open (both absent: every user). */
  EarningsAccrued: {
    version: 1,
    data: z.strictObject({
      periodStartsAt: at,
      periodEndsAt: at,
      usersFrom: id.optional(),
      usersBefore: id.optional(),
    }),
  },
  VipLevelChanged: {
    version: 1,
    data: z.strictObject({ userId: id, fromLevel: z.number().int(), toLevel: z.number().int() }),
  },
  KycSubmitted: {
    version: 1,
    data: z.strictObject({
      caseId: id,
      userId: id,
      documents: z.array(z.strictObject({ documentId: id, sha256: z.string().regex(/^[0-9a-f]{64}$/) })).min(
        1,
      ),
    }),
  },
  KycApproved: { version: 1, data: z.strictObject({ caseId: id, userId: id, adminId: id }) },
  KycRejected: {
    version: 1,
    data: z.strictObject({ caseId: id, userId: id, adminId: id, final: z.boolean() }),
  },
  KycResubmissionRequested: { version: 1, data: z.strictObject({ caseId: id, userId: id, adminId: id }) },
  /** Not in the contract's list: an approval withdrawn later (final: no new submission allowed).
   * KYC events carry ids and flags only: reasons and notes an admin typed live in private.kyc_decisions. */
  KycApprovalRevoked: {
    version: 1,
    data: z.strictObject({ caseId: id, userId: id, adminId: id, final: z.boolean() }),
  },
  /** An admin froze the account (reason: a code from money.account_control_reasons; notes stay private). */
  AccountFrozen: { version: 1, data: z.strictObject({ userId: id, adminId: id, reason: reasonCode }) },
  /** releasedMinor: the held balance moved to available (debt first) as the account was unfrozen. */
  AccountUnfrozen: {
    version: 1,
    data: z.strictObject({ userId: id, adminId: id, reason: reasonCode, releasedMinor: amountMinor }),
  },
  /** adminId null: an operator's promotion (private.promote_to_admin). */
  RoleChanged: {
    version: 1,
    data: z.strictObject({ userId: id, fromRole: role, toRole: role, adminId: id.nullable() }),
  },
  WithdrawalRequested: {
    version: 1,
    data: z.strictObject({ withdrawalId: id, userId: id, amountMinor, currency }),
  },
  WithdrawalApproved: { version: 1, data: z.strictObject({ withdrawalId: id, adminId: id }) },
  WithdrawalRejected: { version: 1, data: z.strictObject({ withdrawalId: id, adminId: id }) },
  WithdrawalPaid: {
    version: 1,
    data: z.strictObject({ withdrawalId: id, adminId: id, reference: z.string().max(200) }),
  },
} as const;

export type EventType = keyof typeof eventSchemas;
export type EventData<T extends EventType> = z.infer<(typeof eventSchemas)[T]["data"]>;
/** One member of the union: `{ type: "Purchased", data: {...} }`. */
export type DomainEvent = { [T in EventType]: { type: T; data: EventData<T> } }[EventType];

export const eventTypes = Object.keys(eventSchemas) as EventType[];

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(eventSchemas, type);
}
