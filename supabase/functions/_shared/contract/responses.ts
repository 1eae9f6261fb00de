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

/** Any JSON object: for answers whose fields are not described yet (admin views; see README). */
export const anyObject = z.looseObject({});

/** Every list route: `?limit=&cursor=` → `{items, nextCursor}` (null on the last page). */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.looseObject({ items: z.array(item), nextCursor: z.string().nullable() });
}

export const emailVerifiedResponse = z.looseObject({ emailVerified: z.literal(true) });
export const passwordChangedResponse = z.looseObject({ status: z.literal("password_changed") });
export const webhookReceivedResponse = z.looseObject({ received: z.literal(true), outcome: z.string() });
export const emailWebhookResponse = z.looseObject({ outcome: z.string() });
export const kycBulkDecisionResponse = z.looseObject({ results: z.array(anyObject) });

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
