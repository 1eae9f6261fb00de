// The KYC case state machine, pure: decide(command, state) → events or a refusal, evolve(state, event)
// → state. A case is one stream (`kyc-<caseId>`); a user has at most one open case at a time, so the
// user's status is the status of their latest case. Refusals are result codes, not exceptions: they
// are operating errors the caller maps to 403/409/422.
import type { DomainEvent, EventData } from "../events.ts";

export type KycCaseStatus = "pending" | "approved" | "rejected" | "resubmission_requested" | "revoked";
/** What users see: a revoked approval reads as "rejected" (the contract's list has no "revoked"). */
export type KycPublicStatus = "none" | "pending" | "approved" | "rejected" | "resubmission_requested";
export type KycDecision = "approve" | "reject" | "request_resubmission" | "revoke";

export const KYC_DECISIONS: readonly KycDecision[] = ["approve", "reject", "request_resubmission", "revoke"];
export const KYC_CASE_STATUSES: readonly KycCaseStatus[] = [
  "pending",
  "approved",
  "rejected",
  "resubmission_requested",
  "revoked",
];

export type KycCase = {
  caseId: string;
  userId: string;
  status: KycCaseStatus;
  /** A final rejection or revocation: the user may not submit again. */
  final: boolean;
  /** Events in the case's stream: the expected version of the next append. */
  version: number;
};

export type KycEventType =
  | "KycSubmitted"
  | "KycApproved"
  | "KycRejected"
  | "KycResubmissionRequested"
  | "KycApprovalRevoked";
export type KycEvent = Extract<DomainEvent, { type: KycEventType }>;

export type SubmitKyc = {
  caseId: string;
  userId: string;
  documents: EventData<"KycSubmitted">["documents"];
};

export type DecideKyc = {
  caseId: string;
  adminId: string;
  decision: KycDecision;
  /** Only for reject and revoke: no further submission allowed. */
  final: boolean;
};

export type SubmitRefusal = "case_pending" | "already_approved" | "resubmission_not_allowed";
export type DecideRefusal = "own_case" | "invalid_transition";
export type Decided<R> = { ok: true; events: KycEvent[] } | { ok: false; refusal: R };

/** Each decision is allowed from exactly one status. Everything else is an illegal transition. */
export const TRANSITIONS: Record<
  KycDecision,
  { from: KycCaseStatus; to: KycCaseStatus; event: KycEventType }
> = {
  approve: { from: "pending", to: "approved", event: "KycApproved" },
  reject: { from: "pending", to: "rejected", event: "KycRejected" },
  request_resubmission: { from: "pending", to: "resubmission_requested", event: "KycResubmissionRequested" },
  revoke: { from: "approved", to: "revoked", event: "KycApprovalRevoked" },
};

/** Whether a new submission is allowed, given the user's latest case (null: none yet). */
export function submissionRefusal(latest: KycCase | null): SubmitRefusal | null {
  if (latest === null) return null;
  switch (latest.status) {
    case "pending":
      return "case_pending";
    case "approved":
      return "already_approved";
    case "rejected":
    case "revoked":
      return latest.final ? "resubmission_not_allowed" : null;
    case "resubmission_requested":
      return null;
    default: {
      const unexpected: never = latest.status;
      throw new Error(`unknown KYC status ${String(unexpected)}`);
    }
  }
}

export function decideSubmission(latest: KycCase | null, command: SubmitKyc): Decided<SubmitRefusal> {
  const refusal = submissionRefusal(latest);
  if (refusal) return { ok: false, refusal };
  return {
    ok: true,
    events: [{
      type: "KycSubmitted",
      data: { caseId: command.caseId, userId: command.userId, documents: command.documents },
    }],
  };
}

export function decideDecision(state: KycCase, command: DecideKyc): Decided<DecideRefusal> {
  // Checked before the transition: an admin learns nothing about their own case's state from the answer.
  if (command.adminId === state.userId) return { ok: false, refusal: "own_case" };
  const transition = TRANSITIONS[command.decision];
  if (state.status !== transition.from) return { ok: false, refusal: "invalid_transition" };
  const ids = { caseId: state.caseId, userId: state.userId, adminId: command.adminId };
  switch (command.decision) {
    case "approve":
      return { ok: true, events: [{ type: "KycApproved", data: ids }] };
    case "reject":
      return { ok: true, events: [{ type: "KycRejected", data: { ...ids, final: command.final } }] };
    case "request_resubmission":
      return { ok: true, events: [{ type: "KycResubmissionRequested", data: ids }] };
    case "revoke":
      return { ok: true, events: [{ type: "KycApprovalRevoked", data: { ...ids, final: command.final } }] };
    default: {
      const unexpected: never = command.decision;
      throw new Error(`unknown decision ${String(unexpected)}`);
    }
  }
}

export function evolve(state: KycCase | null, event: KycEvent): KycCase {
  if (event.type === "KycSubmitted") {
    return {
      caseId: event.data.caseId,
      userId: event.data.userId,
      status: "pending",
      final: false,
      version: 1,
    };
  }
  if (state === null) throw new Error(`${event.type} before KycSubmitted in case ${event.data.caseId}`);
  const version = state.version + 1;
  switch (event.type) {
    case "KycApproved":
      return { ...state, status: "approved", final: false, version };
    case "KycRejected":
      return { ...state, status: "rejected", final: event.data.final, version };
    case "KycResubmissionRequested":
      return { ...state, status: "resubmission_requested", final: false, version };
    case "KycApprovalRevoked":
      return { ...state, status: "revoked", final: event.data.final, version };
    default: {
      const unexpected: never = event;
      throw new Error(`unknown KYC event ${JSON.stringify(unexpected)}`);
    }
  }
}

export function fold(events: KycEvent[]): KycCase | null {
  return events.reduce<KycCase | null>(evolve, null);
}

export function publicStatus(latest: KycCase | null): KycPublicStatus {
  if (latest === null) return "none";
  return latest.status === "revoked" ? "rejected" : latest.status;
}

export function canResubmit(latest: KycCase | null): boolean {
  return submissionRefusal(latest) === null;
}
