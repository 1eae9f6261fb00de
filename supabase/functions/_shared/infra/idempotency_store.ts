// SQL calls behind _shared/http/idempotency.ts (supabase/migrations/20261122070000_create_idempotent_requests.sql).
import type { Sql } from "./db.ts";

export type Claim =
  | { outcome: "claimed"; operationId: string }
  | { outcome: "completed"; operationId: string; status: number; contentType: string | null; body: string }
  | { outcome: "in_progress" }
  | { outcome: "reused" };

type ClaimRow = {
  outcome: Claim["outcome"];
  operation_id: string | null;
  response_status: number | null;
  response_content_type: string | null;
  response_body: string | null;
};

export async function claimIdempotentRequest(
  sql: Sql,
  userId: string,
  key: string,
  requestSha256: Uint8Array,
  staleAfterSeconds: number,
): Promise<Claim> {
  const [row] = await sql<ClaimRow[]>`
    select * from private.claim_idempotent_request(
      ${userId}::uuid, ${key}, ${requestSha256}, make_interval(secs => ${staleAfterSeconds}))`;
  switch (row!.outcome) {
    case "claimed":
      return { outcome: "claimed", operationId: row!.operation_id! };
    case "completed":
      return {
        outcome: "completed",
        operationId: row!.operation_id!,
        status: row!.response_status!,
        contentType: row!.response_content_type,
        body: row!.response_body!,
      };
    case "in_progress":
    case "reused":
      return { outcome: row!.outcome };
    default: {
      const unexpected: never = row!.outcome;
      throw new Error(`unexpected claim outcome ${String(unexpected)}`);
    }
  }
}

export async function completeIdempotentRequest(
  sql: Sql,
  userId: string,
  key: string,
  operationId: string,
  response: { status: number; contentType: string | null; body: string },
): Promise<boolean> {
  const [row] = await sql<{ stored: boolean }[]>`
    select private.complete_idempotent_request(
      ${userId}::uuid, ${key}, ${operationId}::uuid, ${response.status}, ${response.contentType}, ${response.body}
    ) as stored`;
  return row!.stored;
}

export async function releaseIdempotentRequest(
  sql: Sql,
  userId: string,
  key: string,
  operationId: string,
): Promise<void> {
  await sql`select private.release_idempotent_request(${userId}::uuid, ${key}, ${operationId}::uuid)`;
}
