// What a refused withdrawal command means to a client (CONTRACT.md: 403 kyc_required, 422
// insufficient_funds / invalid_state; 422 outstanding_balance while the account owes; 403
// email_unverified without a verified address; 403 account_frozen).
import { type Problem, problems } from "./problem.ts";
import { type RefusalReason, WithdrawalRefused } from "../infra/withdrawal_store.ts";

const PROBLEMS: Record<RefusalReason, () => Problem> = {
  insufficient_funds: () =>
    problems.unprocessable("insufficient_funds", "The amount exceeds your available balance."),
  kyc_required: () => problems.kycRequired(),
  email_unverified: () => problems.emailUnverified(),
  not_found: () => problems.notFound("No such withdrawal."),
  invalid_state: () =>
    problems.unprocessable(
      "invalid_state",
      "This decision is not allowed in the withdrawal's current state.",
    ),
  kyc_revoked: () =>
    problems.unprocessable(
      "invalid_state",
      "The user's KYC approval was revoked; the withdrawal is held until it is approved again.",
    ),
  owed_hold: () =>
    problems.unprocessable(
      "invalid_state",
      "The user owes money after a clawback; the withdrawal is held until the debt is paid or it is rejected.",
    ),
  outstanding_balance: () =>
    problems.unprocessable(
      "outstanding_balance",
      "Your account owes money after a refund or chargeback; withdrawals resume once it is paid down.",
    ),
  account_frozen: () => problems.accountFrozen(),
  frozen_hold: () =>
    problems.unprocessable(
      "invalid_state",
      "The account is frozen; the withdrawal is held until it is unfrozen (rejecting it works).",
    ),
  own_withdrawal: () => problems.forbidden("Nobody decides their own withdrawal."),
  invalid_amount: () =>
    problems.unprocessable(
      "invalid_amount",
      "The amount is below the minimum withdrawal or not in the platform currency.",
    ),
};

export function withdrawalProblem(error: unknown): unknown {
  return error instanceof WithdrawalRefused ? PROBLEMS[error.reason]() : error;
}
