// The request shapes the handlers validate with, in one place: each handler parses with these schemas,
// and the OpenAPI document (openapi.ts) is generated from the same objects (zod 4's z.toJSONSchema),
// so the published contract cannot drift from what is enforced.
import { z } from "zod";
import { emailSchema } from "../domain/identity/email.ts";
import { normalizePassword, passwordSchema } from "../domain/identity/password.ts";
import { referralCodeSchema } from "../domain/identity/referral_code.ts";
import { KYC_CASE_STATUSES, KYC_DECISIONS } from "../domain/kyc/kyc_case.ts";

// --- auth -------------------------------------------------------------------------------------------
export const signupBody = z.strictObject({
  email: emailSchema,
  password: passwordSchema,
  referralCode: referralCodeSchema.nullish(),
});
// Login does not re-apply the signup length rules (they may change); it only bounds the work.
export const loginBody = z.strictObject({
  email: emailSchema,
  password: z.string().min(1, "Required.").max(512, "Too long.").transform(normalizePassword),
});
export const refreshBody = z.strictObject({
  refreshToken: z.string().min(1, "Required.").max(512, "Too long."),
});
const emailTokenSchema = z.string().min(1, "Required.").max(512, "Too long.");
export const passwordResetBody = z.strictObject({ email: emailSchema });
export const passwordResetConfirmBody = z.strictObject({
  token: emailTokenSchema,
  newPassword: passwordSchema,
});
export const verifyEmailBody = z.strictObject({ token: emailTokenSchema });
export const passwordChangeBody = z.strictObject({
  currentPassword: z.string().min(1, "Required.").max(512, "Too long.").transform(normalizePassword),
  newPassword: passwordSchema,
});

// --- account ----------------------------------------------------------------------------------------
export const notificationPreferencesBody = z.strictObject({ commissionDigest: z.boolean() });

// --- purchases and withdrawals ----------------------------------------------------------------------
export const purchaseBody = z.strictObject({ packageId: z.uuid() });

/** What an admin reads before paying out must be what is stored: no Unicode "other" characters
 * (controls Cc, format Cf such as bidirectional overrides and isolates, LRM/RLM and zero-width
 * characters, lone surrogates Cs, private use Co, unassigned Cn) and no line or paragraph separators,
 * any of which can make the account shown differ from the account paid. */
const HIDDEN_OR_REORDERING = /[\p{C}\p{Zl}\p{Zp}]/u;

export const withdrawalBody = z.strictObject({
  amountMinor: z.number().int().min(1).max(1_000_000_000_000),
  currency: z.string().regex(/^[A-Z]{3}$/, "An ISO 4217 code in upper case."),
  destination: z.string().trim().min(1).max(500).refine(
    (text) => !HIDDEN_OR_REORDERING.test(text),
    "Control, formatting and invisible characters (such as bidirectional overrides) are not allowed.",
  ),
});

// --- admin ------------------------------------------------------------------------------------------
export const newPackageBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  priceMinor: z.number().int().min(1).max(1_000_000_000_000),
  currency: z.string().regex(/^[A-Z]{3}$/, "An ISO 4217 code in upper case."),
  dailyRateBps: z.number().int().min(1).max(10_000),
  durationDays: z.number().int().min(1).max(3650),
});

export const withdrawalDecisionBody = z.strictObject({
  decision: z.enum(["approve", "reject", "mark_paid"]),
  reference: z.string().trim().min(1).max(200).optional(),
  reason: z.string().trim().min(1).max(1000).optional(),
}).refine((b) => b.decision !== "mark_paid" || b.reference !== undefined, {
  path: ["reference"],
  message: "mark_paid needs the payout's external reference.",
});
export const withdrawalStatusQuery = z.strictObject({
  status: z.enum(["pending", "approved", "rejected", "paid"]).optional(),
});

// Postgres cannot hold a NUL in text: refused here, by name, instead of failing inside the query.
const userSearch = z.string().max(320).refine((s) => !s.includes("\0"), "May not contain NUL characters.");
export const userSearchQuery = z.strictObject({ search: userSearch.optional() });
export const userOverviewQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  eventsBefore: z.coerce.number().int().positive().safe().optional(),
});

export const kycStatusQuery = z.strictObject({ status: z.enum(KYC_CASE_STATUSES).optional() });
export const BULK_DECISIONS_MAX = 100;
const kycDecisionFields = {
  decision: z.enum(KYC_DECISIONS),
  /** Shown to the user. */
  reason: z.string().trim().min(1, "Required.").max(500, "At most 500 characters.").optional(),
  /** For admins only. */
  note: z.string().trim().min(1, "Required.").max(2000, "At most 2000 characters.").optional(),
  final: z.boolean().optional(),
};
export type KycDecisionInput = {
  decision: (typeof KYC_DECISIONS)[number];
  reason?: string | undefined;
  note?: string | undefined;
  final?: boolean | undefined;
};
function checkKycDecision(input: KycDecisionInput, ctx: z.RefinementCtx): void {
  if (input.decision !== "approve" && input.reason === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["reason"],
      message: "The user is told why: required unless approving.",
    });
  }
  if (input.decision === "approve" && input.reason !== undefined) {
    ctx.addIssue({ code: "custom", path: ["reason"], message: "An approval has no reason; use note." });
  }
  if (input.final !== undefined && input.decision !== "reject" && input.decision !== "revoke") {
    ctx.addIssue({ code: "custom", path: ["final"], message: "Only reject and revoke can be final." });
  }
}
export const kycDecisionBody = z.strictObject(kycDecisionFields).superRefine(checkKycDecision);
export const kycBulkDecisionBody = z.strictObject({
  items: z
    .array(z.strictObject({ caseId: z.uuid(), ...kycDecisionFields }).superRefine(checkKycDecision))
    .min(1, "At least one item.")
    .max(BULK_DECISIONS_MAX, `At most ${BULK_DECISIONS_MAX} items.`)
    .refine((items) => new Set(items.map((i) => i.caseId)).size === items.length, "Each case at most once."),
});

const controlReason = z.string().regex(/^[a-z][a-z0-9_]{1,39}$/, "A reason code such as fraud_suspected.");
const controlNote = z.string().trim().min(1, "Required.").max(2000, "At most 2000 characters.").optional();
export const accountControlBody = z.strictObject({ reason: controlReason, note: controlNote });
export const roleBody = z.strictObject({ role: z.enum(["admin", "user"]), note: controlNote });

/** Finance exports: GET /admin/exports/{kind}.csv?from=&to=. */
export const EXPORT_KINDS = ["purchases", "commissions", "withdrawals", "ledger", "earnings"] as const;
// A date alone is that day's UTC midnight; a date-time must carry its offset, so no window depends on a
// server's or session's time zone.
const instant = z.union([z.iso.date(), z.iso.datetime({ offset: true })])
  .transform((text) => text.length === 10 ? `${text}T00:00:00Z` : text)
  .refine((text) => Number.isFinite(Date.parse(text)), "Not a valid date.");
export const exportWindowQuery = z.strictObject({ from: instant, to: instant });

/** Operations: GET /admin/ops takes no parameters; GET /admin/alerts?state= pages the alert history. */
export const opsQuery = z.strictObject({});
export const alertStateQuery = z.strictObject({ state: z.enum(["firing", "resolved"]).optional() });
