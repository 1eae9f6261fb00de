// The KYC state machine as given(events).when(command).then(events | refusal).
import assert from "node:assert/strict";
import { eventSchemas } from "../events.ts";
import {
  canResubmit,
  decideDecision,
  type DecideKyc,
  decideSubmission,
  fold,
  KYC_CASE_STATUSES,
  KYC_DECISIONS,
  type KycCase,
  type KycCaseStatus,
  type KycEvent,
  publicStatus,
  TRANSITIONS,
} from "./kyc_case.ts";

const caseId = "0b9d0c0e-6a53-4c3a-9a53-5f3f6c1d2e01";
const userId = "1c9d0c0e-6a53-4c3a-9a53-5f3f6c1d2e02";
const adminId = "2d9d0c0e-6a53-4c3a-9a53-5f3f6c1d2e03";
const documents = [{ documentId: "3e9d0c0e-6a53-4c3a-9a53-5f3f6c1d2e04", sha256: "a".repeat(64) }];

const submitted: KycEvent = { type: "KycSubmitted", data: { caseId, userId, documents } };
const approved: KycEvent = { type: "KycApproved", data: { caseId, userId, adminId } };
const rejected = (final: boolean): KycEvent => ({
  type: "KycRejected",
  data: { caseId, userId, adminId, final },
});
const resubmissionRequested: KycEvent = {
  type: "KycResubmissionRequested",
  data: { caseId, userId, adminId },
};
const revoked = (final: boolean): KycEvent => ({
  type: "KycApprovalRevoked",
  data: { caseId, userId, adminId, final },
});

/** Histories that end in each status. */
const historyFor: Record<KycCaseStatus, KycEvent[]> = {
  pending: [submitted],
  approved: [submitted, approved],
  rejected: [submitted, rejected(false)],
  resubmission_requested: [submitted, resubmissionRequested],
  revoked: [submitted, approved, revoked(false)],
};

function given(events: KycEvent[]) {
  const state = fold(events);
  return {
    whenDecided(command: Omit<DecideKyc, "caseId">) {
      assert.ok(state, "a decision needs a case");
      return decideDecision(state, { caseId, ...command });
    },
    whenSubmitted() {
      return decideSubmission(state, { caseId: "4f9d0c0e-6a53-4c3a-9a53-5f3f6c1d2e05", userId, documents });
    },
    state,
  };
}

Deno.test("given no case, when submitted, then KycSubmitted with ids and digests only", () => {
  const result = given([]).whenSubmitted();
  assert.ok(result.ok);
  assert.equal(result.events.length, 1);
  const [event] = result.events;
  assert.equal(event!.type, "KycSubmitted");
  assert.ok(eventSchemas.KycSubmitted.data.safeParse(event!.data).success);
});

Deno.test("given a pending case, when submitted again, then refused as case_pending", () => {
  assert.deepEqual(given([submitted]).whenSubmitted(), { ok: false, refusal: "case_pending" });
});

Deno.test("given an approved case, when submitted, then refused as already_approved", () => {
  assert.deepEqual(given([submitted, approved]).whenSubmitted(), { ok: false, refusal: "already_approved" });
});

Deno.test("given a final rejection or final revocation, when submitted, then refused", () => {
  for (const history of [[submitted, rejected(true)], [submitted, approved, revoked(true)]]) {
    assert.deepEqual(given(history).whenSubmitted(), { ok: false, refusal: "resubmission_not_allowed" });
  }
});

Deno.test("given a retryable rejection, a resubmission request or a non-final revocation, when submitted, then accepted", () => {
  for (
    const history of [[submitted, rejected(false)], [submitted, resubmissionRequested], historyFor.revoked]
  ) {
    assert.ok(given(history).whenSubmitted().ok);
  }
});

Deno.test("given a pending case, when approved, then KycApproved recording the admin", () => {
  const result = given([submitted]).whenDecided({ adminId, decision: "approve", final: false });
  assert.deepEqual(result, { ok: true, events: [approved] });
});

Deno.test("given a pending case, when rejected finally, then KycRejected with final", () => {
  const result = given([submitted]).whenDecided({ adminId, decision: "reject", final: true });
  assert.deepEqual(result, { ok: true, events: [rejected(true)] });
});

Deno.test("given a pending case, when resubmission is requested, then KycResubmissionRequested", () => {
  const result = given([submitted]).whenDecided({ adminId, decision: "request_resubmission", final: false });
  assert.deepEqual(result, { ok: true, events: [resubmissionRequested] });
});

Deno.test("given an approved case, when revoked, then KycApprovalRevoked", () => {
  const result = given([submitted, approved]).whenDecided({ adminId, decision: "revoke", final: false });
  assert.deepEqual(result, { ok: true, events: [revoked(false)] });
});

Deno.test("every transition outside the table is refused as invalid_transition", () => {
  let refused = 0;
  for (const status of KYC_CASE_STATUSES) {
    for (const decision of KYC_DECISIONS) {
      const result = given(historyFor[status]).whenDecided({ adminId, decision, final: false });
      if (TRANSITIONS[decision].from === status) {
        assert.ok(result.ok, `${decision} from ${status}`);
      } else {
        assert.deepEqual(result, { ok: false, refusal: "invalid_transition" }, `${decision} from ${status}`);
        refused++;
      }
    }
  }
  assert.equal(refused, 5 * 4 - 4);
});

Deno.test("given a case, when its own user decides it as admin, then refused as own_case", () => {
  const result = given([submitted]).whenDecided({ adminId: userId, decision: "approve", final: false });
  assert.deepEqual(result, { ok: false, refusal: "own_case" });
});

Deno.test("evolve counts the version and carries final", () => {
  const state = fold([submitted, approved, revoked(true)]) as KycCase;
  assert.deepEqual(state, { caseId, userId, status: "revoked", final: true, version: 3 });
  assert.throws(() => fold([approved]), /before KycSubmitted/);
});

Deno.test("public status: none without a case, a revocation reads as rejected; canResubmit follows the rules", () => {
  assert.equal(publicStatus(null), "none");
  assert.equal(canResubmit(null), true);
  assert.equal(publicStatus(fold(historyFor.revoked)), "rejected");
  assert.equal(canResubmit(fold(historyFor.revoked)), true);
  assert.equal(canResubmit(fold(historyFor.pending)), false);
  assert.equal(canResubmit(fold(historyFor.approved)), false);
  assert.equal(canResubmit(fold([submitted, rejected(true)])), false);
  assert.equal(publicStatus(fold(historyFor.resubmission_requested)), "resubmission_requested");
});

Deno.test("KYC events carry no free text: every field is an id, a digest or a flag", () => {
  for (const event of [submitted, approved, rejected(true), resubmissionRequested, revoked(false)]) {
    assert.ok(eventSchemas[event.type].data.safeParse(event.data).success, event.type);
    assert.doesNotMatch(JSON.stringify(event.data), /reason|note|name|birth/i);
  }
});
