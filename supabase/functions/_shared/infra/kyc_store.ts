// KYC reads and commands against Postgres (supabase/migrations/2026112205*). Commands are one SQL
// function call each; their refusals come back as KycStoreError codes the functions map to problems.
import type { Sql } from "./db.ts";
import { readStream, translateError, validateEvent } from "./event_store.ts";
import type { Applicant } from "../domain/kyc/applicant.ts";
import type { DocumentContentType } from "../domain/kyc/document_type.ts";
import { fold, type KycCase, type KycCaseStatus, type KycEvent } from "../domain/kyc/kyc_case.ts";

export type KycStoreRefusal =
  | "unknown_user"
  | "unknown_case"
  | "case_pending"
  | "submission_not_allowed"
  | "case_exists"
  | "forbidden"
  | "invalid_transition";

export class KycStoreError extends Error {
  override name = "KycStoreError";
  constructor(readonly refusal: KycStoreRefusal, message: string) {
    super(message);
  }
}

const SQLSTATE_REFUSALS: Record<string, KycStoreRefusal> = {
  KY404: "unknown_user",
  KY409: "case_pending",
  KY422: "submission_not_allowed",
  KY412: "case_exists",
  KY403: "forbidden",
};

function translate(error: unknown, overrides: Record<string, KycStoreRefusal> = {}): unknown {
  const code = (error as { code?: string }).code ?? "";
  const refusal = overrides[code] ?? SQLSTATE_REFUSALS[code];
  return refusal ? new KycStoreError(refusal, (error as Error).message) : translateError(error);
}

const streamOf = (caseId: string) => `kyc-${caseId}`;

/** A case as its events say (the source of truth for decisions), or null when it does not exist. */
export async function loadCase(sql: Sql, caseId: string): Promise<KycCase | null> {
  const events = await readStream(sql, streamOf(caseId), 0, 100);
  return fold(events.map((e) => ({ type: e.type, data: e.data }) as KycEvent));
}

/** The digests a case was submitted with (for Idempotency-Key replays), from its first event. */
export async function submittedDigests(
  sql: Sql,
  caseId: string,
): Promise<{ userId: string; sha256: string[] } | null> {
  const [row] = await sql<{ data: { userId: string; documents: { sha256: string }[] } }[]>`
    select data from event_store.events where stream_id = ${streamOf(caseId)} and stream_version = 1`;
  return row ? { userId: row.data.userId, sha256: row.data.documents.map((d) => d.sha256) } : null;
}

export type UserKycView = { latest: KycCase | null; reason: string | null };

/** The user's latest case and the user-facing reason of its latest decision. */
export async function loadUserKyc(sql: Sql, userId: string): Promise<UserKycView> {
  const [row] = await sql<(KycCase & { reason: string | null })[]>`
    select c.case_id as "caseId", c.user_id as "userId", c.status, c.final, c.version, d.reason
    from public.kyc_cases c
    left join private.kyc_decisions d on d.case_id = c.case_id and d.case_version = c.version
    where c.user_id = ${userId}
    order by c.submitted_position desc
    limit 1`;
  if (!row) return { latest: null, reason: null };
  const { reason, ...latest } = row;
  return { latest, reason };
}

export type StoredDocumentInfo = {
  documentId: string;
  sha256: string;
  contentType: DocumentContentType;
  sizeBytes: number;
  storageKey: string;
};

export async function submitCase(
  sql: Sql,
  input: { event: KycEvent; applicant: Applicant; documents: StoredDocumentInfo[]; requestId: string },
): Promise<{ caseId: string; status: "pending" }> {
  const event = validateEvent(input.event);
  try {
    const [row] = await sql`
      select kyc.submit_case(${sql.json(event as never)}, ${sql.json(input.applicant)},
        ${sql.json(input.documents)}, ${sql.json({ requestId: input.requestId })}) as result`;
    return row!.result;
  } catch (error) {
    throw translate(error);
  }
}

export type DecisionResult = {
  caseId: string;
  status: KycCaseStatus;
  final: boolean;
  decidedBy: string;
  decidedAt: string;
};

export async function recordDecision(
  sql: Sql,
  input: {
    event: KycEvent;
    expectedVersion: number;
    reason: string | null;
    note: string | null;
    requestId: string;
  },
): Promise<DecisionResult> {
  const event = validateEvent(input.event);
  try {
    const [row] = await sql`
      select kyc.record_decision(${sql.json(event as never)}, ${input.expectedVersion}, ${input.reason},
        ${input.note}, ${sql.json({ requestId: input.requestId })}) as result`;
    return row!.result;
  } catch (error) {
    throw translate(error, { KY404: "unknown_case", KY422: "invalid_transition" });
  }
}

export type CaseListItem = {
  caseId: string;
  userId: string;
  status: KycCaseStatus;
  final: boolean;
  documentCount: number;
  submittedAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  position: number;
};

export type CaseKey = [number, string];

/** The review queue, oldest submission first (first come, first served), keyset by (position, id). */
export function listCases(
  sql: Sql,
  filter: { status: KycCaseStatus | null; limit: number; after: CaseKey | null },
): Promise<CaseListItem[]> {
  const [position, caseId] = filter.after ?? [0, "00000000-0000-0000-0000-000000000000"];
  const status = filter.status ? sql`and status = ${filter.status}` : sql``;
  return sql<CaseListItem[]>`
    select case_id as "caseId", user_id as "userId", status, final, document_count as "documentCount",
           to_char(submitted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "submittedAt", to_char(decided_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "decidedAt",
           decided_by as "decidedBy", submitted_position as position
    from public.kyc_cases
    where (submitted_position, case_id) > (${position}, ${caseId}) ${status}
    order by submitted_position, case_id
    limit ${filter.limit + 1}`;
}

export type CaseDetail = Omit<CaseListItem, "position"> & {
  version: number;
  applicant: { fullName: string; dateOfBirth: string; country: string } | null;
  documents: (StoredDocumentInfo & { ordinal: number })[];
  decisions: {
    decision: string;
    adminId: string;
    reason: string | null;
    note: string | null;
    final: boolean;
    decidedAt: string;
  }[];
};

export async function loadCaseDetail(sql: Sql, caseId: string): Promise<CaseDetail | null> {
  const [row] = await sql<CaseDetail[]>`
    select c.case_id as "caseId", c.user_id as "userId", c.status, c.final, c.document_count as "documentCount",
           to_char(c.submitted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "submittedAt", to_char(c.decided_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "decidedAt",
           c.decided_by as "decidedBy", c.version,
           (select jsonb_build_object('fullName', a.full_name, 'dateOfBirth', a.date_of_birth::text, 'country', a.country)
            from private.kyc_applicants a where a.case_id = c.case_id) as applicant,
           coalesce((select jsonb_agg(jsonb_build_object('documentId', d.document_id, 'ordinal', d.ordinal,
                       'sha256', d.sha256, 'contentType', d.content_type, 'sizeBytes', d.size_bytes,
                       'storageKey', d.storage_key) order by d.ordinal)
                     from private.kyc_documents d where d.case_id = c.case_id), '[]') as documents,
           coalesce((select jsonb_agg(jsonb_build_object('decision', k.decision, 'adminId', k.admin_id,
                       'reason', k.reason, 'note', k.note, 'final', k.final,
                       'decidedAt', to_char(k.decided_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
                       order by k.case_version)
                     from private.kyc_decisions k where k.case_id = c.case_id), '[]') as decisions
    from public.kyc_cases c
    where c.case_id = ${caseId}`;
  return row ?? null;
}
