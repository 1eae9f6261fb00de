// Response shapes, written once in zod for the OpenAPI document (openapi.ts). The handlers build their
// answers from SQL rows, so these are the promise the contract makes, checked against real responses by
// tests/openapi.integration_test.ts. Objects are loose: a field added later does not break a client
// that validates with an older document; every field listed here is required unless marked optional.
import { z } from "zod";

const id = z.uuid();
const timestamp = z.string().describe("RFC 3339, UTC");
const minor = z.number().int().describe("integer minor units (cents for USD)");
const currency = z.string().regex(/^[A-Z]{3}$/);

export const healthResponse = z.looseObject({
  status: z.enum(["ok", "degraded"]),
  database: z.enum(["ok", "down"]),
  redis: z.enum(["ok", "down"]),
  version: z.string(),
  time: timestamp,
});

export const accountUser = z.looseObject({
  id,
  email: z.string(),
  role: z.enum(["user", "admin"]),
  referralCode: z.string(),
  referrerId: id.nullable(),
  vipLevel: z.number().int().min(0),
  kycStatus: z.string(),
  createdAt: timestamp,
  emailVerified: z.boolean().optional(),
  emailDeliverable: z.boolean().optional(),
});

export const sessionResponse = z.looseObject({
  user: accountUser,
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresIn: z.number().int().positive().describe("seconds until the access token expires"),
});

export const packageResponse = z.looseObject({
  id,
  name: z.string(),
  priceMinor: minor,
  currency,
  dailyRateBps: z.number().int(),
  durationDays: z.number().int(),
});
export const packageListResponse = z.array(packageResponse);

export const checkoutResponse = z.looseObject({
  purchaseId: id,
  status: z.literal("pending"),
  checkoutUrl: z.string(),
  stripeSessionId: z.string(),
});

export const accountSummaryResponse = z.looseObject({
  currency,
  availableMinor: minor,
  pendingMinor: minor,
  earnedMinor: minor,
  commissionMinor: minor,
  withdrawnMinor: minor,
  vipLevel: z.number().int().min(0),
});

export const networkResponse = z.looseObject({
  directReferrals: z.number().int().min(0),
  totalNetwork: z.number().int().min(0),
  levels: z.array(z.looseObject({
    level: z.number().int().min(1).max(10),
    members: z.number().int().min(0),
    volumeMinor: minor,
  })),
});

export const notificationPreferencesResponse = z.looseObject({ commissionDigest: z.boolean() });

export const kycStatusResponse = z.looseObject({
  status: z.enum(["none", "pending", "approved", "rejected", "resubmission_requested", "revoked"]),
  reason: z.string().optional(),
  canResubmit: z.boolean(),
});
export const kycSubmittedResponse = z.looseObject({ caseId: id, status: z.literal("pending") });

export const withdrawalResponse = z.looseObject({ id, amountMinor: minor, currency, status: z.string() });

/** Any JSON object: for answers whose fields are not described (this document itself, the ops
 * figures whose names are rows of ops.metrics). */
export const anyObject = z.looseObject({});

// --- list items (one schema per list route; see OPERATIONS in openapi.ts) ------------------------------
const purchaseStatus = z.enum(["pending", "failed", "paid", "partially_refunded", "refunded", "disputed"]);
export const purchaseItem = z.looseObject({
  purchaseId: id,
  packageId: id,
  amountMinor: minor,
  currency,
  status: purchaseStatus,
  refundedMinor: minor,
  contractId: id.nullable(),
  stripeSessionId: z.string(),
  createdAt: timestamp,
  paidAt: timestamp.nullable(),
});

export const ledgerItem = z.looseObject({
  position: z.number().int().min(1).describe("the event's position in the log"),
  line: z.number().int().min(0),
  account: z.string(),
  amountMinor: minor,
  balanceBeforeMinor: minor,
  balanceAfterMinor: minor,
  currency,
  eventType: z.string(),
  referenceId: z.string().nullable(),
  recordedAt: timestamp,
});

export const contractItem = z.looseObject({
  id,
  purchaseId: id,
  packageId: id,
  principalMinor: minor,
  currency,
  dailyRateBps: z.number().int(),
  durationDays: z.number().int(),
  totalYieldMinor: minor,
  accruedMinor: minor,
  startsAt: timestamp,
  endsAt: timestamp,
  status: z.enum(["active", "completed", "refunded", "disputed"]),
  stoppedAt: timestamp.nullable(),
});

const withdrawalStatus = z.enum(["pending", "approved", "rejected", "paid"]);
export const withdrawalItem = z.looseObject({
  id,
  amountMinor: minor,
  currency,
  status: withdrawalStatus,
  requestedAt: timestamp,
  decidedAt: timestamp.nullable(),
  reference: z.string().nullable(),
});
export const adminWithdrawalItem = withdrawalItem.extend({ userId: id, decidedBy: id.nullable() });

export const adminUserItem = z.looseObject({
  id,
  email: z.string(),
  role: z.enum(["user", "admin"]),
  referralCode: z.string(),
  referrerId: id.nullable(),
  vipLevel: z.number().int().min(0),
  kycStatus: z.string(),
  createdAt: timestamp,
});

export const earningsRunItem = z.looseObject({
  id: z.number().int(),
  startedAt: timestamp,
  durationMs: z.number().int().min(0),
  periods: z.number().int().min(0),
  firstPeriod: timestamp.nullable(),
  lastPeriod: timestamp.nullable(),
  contracts: z.number().int().min(0),
  totalMinor: minor,
  status: z.enum(["succeeded", "failed"]),
  error: z.string().nullable(),
});

const kycCaseStatus = z.enum(["pending", "approved", "rejected", "resubmission_requested", "revoked"]);
export const kycCaseItem = z.looseObject({
  caseId: id,
  userId: id,
  status: kycCaseStatus,
  final: z.boolean(),
  documentCount: z.number().int().min(0),
  submittedAt: timestamp,
  decidedAt: timestamp.nullable(),
  decidedBy: id.nullable(),
});

export const alertItem = z.looseObject({
  id: z.number().int(),
  rule: z.string(),
  severity: z.string(),
  metric: z.string(),
  condition: z.string(),
  firedAt: timestamp,
  firedValue: z.number(),
  resolvedAt: timestamp.nullable(),
  resolvedValue: z.number().nullable(),
  description: z.string(),
});

// --- admin views and decisions ----------------------------------------------------------------------
export const kycCaseDetail = kycCaseItem.extend({
  version: z.number().int().min(0),
  applicant: z.looseObject({ fullName: z.string(), dateOfBirth: z.string(), country: z.string() }).nullable(),
  documents: z.array(z.looseObject({
    documentId: id,
    sha256: z.string(),
    contentType: z.string(),
    sizeBytes: z.number().int().min(0),
    ordinal: z.number().int(),
    url: z.string().describe("a signed link, valid for KYC_DOCUMENT_LINK_TTL_SECONDS"),
    expiresAt: timestamp,
  })),
  decisions: z.array(z.looseObject({
    decision: z.string(),
    adminId: id,
    reason: z.string().nullable(),
    note: z.string().nullable(),
    final: z.boolean(),
    decidedAt: timestamp,
  })),
});

export const kycDecisionResult = z.looseObject({
  caseId: id,
  status: kycCaseStatus,
  final: z.boolean(),
  decidedBy: id,
  decidedAt: timestamp,
});

export const accountControlResponse = z.looseObject({
  userId: id,
  frozen: z.boolean(),
  reason: z.string().nullable(),
  frozenAt: timestamp.nullable(),
  frozenBy: id.nullable(),
  heldMinor: minor,
  changed: z.boolean().describe("false when the account already was in the asked state (nothing recorded)"),
});
export const roleChangeResponse = z.looseObject({
  userId: id,
  role: z.enum(["user", "admin"]),
  changed: z.boolean(),
});

/** GET /admin/users/{id}: admin.user_overview (its SQL is the source; the lists hold the latest `limit`). */
export const userOverviewResponse = z.looseObject({
  profile: z.looseObject({
    id,
    email: z.string(),
    role: z.enum(["user", "admin"]),
    referralCode: z.string(),
    referrerId: id.nullable(),
    registeredAt: timestamp,
  }),
  flags: z.looseObject({
    frozen: z.boolean(),
    frozenReason: z.string().nullable(),
    frozenAt: timestamp.nullable(),
    frozenBy: id.nullable(),
    kycStatus: z.string(),
    owes: z.boolean(),
  }),
  balances: z.looseObject({
    currency,
    availableMinor: minor,
    pendingMinor: minor,
    inTransitMinor: minor,
    heldMinor: minor,
    owedMinor: minor,
    earnedMinor: minor,
    commissionMinor: minor,
    withdrawnMinor: minor,
  }),
  vip: z.looseObject({ level: z.number().int().min(0) }),
  contracts: z.looseObject({ total: z.number().int().min(0), items: z.array(z.looseObject({ id })) }),
  purchases: z.looseObject({ total: z.number().int().min(0), items: z.array(z.looseObject({})) }),
  commissionsByLevel: z.array(z.looseObject({ level: z.number().int().min(1).max(10), earnedMinor: minor })),
  withdrawals: z.looseObject({ total: z.number().int().min(0), items: z.array(z.looseObject({})) }),
  recentEvents: z.array(
    z.looseObject({ position: z.number().int(), type: z.string(), recordedAt: timestamp }),
  ),
  adminActions: z.array(
    z.looseObject({ position: z.number().int(), type: z.string(), recordedAt: timestamp }),
  ),
});

export const drainResponse = z.looseObject({
  claimed: z.number().int().min(0),
  sent: z.number().int().min(0),
  retried: z.number().int().min(0),
  dead: z.number().int().min(0),
});
export const opsStatusResponse = z.looseObject({
  time: timestamp,
  figures: z.record(z.string(), z.number().nullable()).describe("each figure of ops.metrics, camelCase"),
  lastAudit: z.looseObject({
    runId: z.number().int(),
    finishedAt: timestamp,
    eventsChecked: z.number().int().min(0),
    violationCount: z.number().int().min(0),
    violations: z.array(z.unknown()),
    acknowledgedAt: timestamp.nullable(),
  }).nullable(),
  alertsFiring: z.array(alertItem),
});
export const alertDispatchResponse = z.looseObject({
  configured: z.boolean(),
  sent: z.number().int().min(0),
  retrying: z.number().int().min(0),
  dead: z.number().int().min(0),
});

/** Every list route: `?limit=&cursor=` → `{items, nextCursor}` (null on the last page). */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.looseObject({ items: z.array(item), nextCursor: z.string().nullable() });
}

export const emailVerifiedResponse = z.looseObject({ emailVerified: z.literal(true) });
export const passwordChangedResponse = z.looseObject({ status: z.literal("password_changed") });
export const webhookReceivedResponse = z.looseObject({ received: z.literal(true), outcome: z.string() });
export const emailWebhookResponse = z.looseObject({ outcome: z.string() });
export const kycBulkDecisionResponse = z.looseObject({
  results: z.array(z.union([
    z.looseObject({ caseId: id, status: z.literal(200), result: kycDecisionResult }),
    z.looseObject({
      caseId: id,
      status: z.number().int().min(400).max(499),
      error: z.looseObject({ code: z.string(), detail: z.string() }),
    }),
  ])),
});

/** RFC 9457 problem details, with our `code` (CONTRACT.md "Errors"). */
export const problemResponse = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string(),
  code: z.string().regex(/^[a-z][a-z0-9_]*$/),
  requestId: z.string(),
  errors: z.array(z.looseObject({ path: z.string(), message: z.string() })).optional()
    .describe("only for validation_failed: which field or query parameter, and why"),
});

// --- the pages of each list route -------------------------------------------------------------------
export const purchasePage = pageOf(purchaseItem);
export const ledgerPage = pageOf(ledgerItem);
export const contractPage = pageOf(contractItem);
export const withdrawalPage = pageOf(withdrawalItem);
export const adminUserPage = pageOf(adminUserItem);
export const adminWithdrawalPage = pageOf(adminWithdrawalItem);
export const earningsRunPage = pageOf(earningsRunItem);
export const kycCasePage = pageOf(kycCaseItem);
export const alertPage = pageOf(alertItem);
