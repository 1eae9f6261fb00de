// Typed client for the SQL event store (supabase/migrations/*_create_append_events.sql).
// It validates every event against the domain union before a single byte reaches Postgres.
import type { Sql } from "./db.ts";
import { type DomainEvent, eventSchemas, type EventType, isEventType } from "../domain/events.ts";

export type ExpectedVersion = "any" | "no_stream" | "stream_exists" | number;

export type EventMetadata = {
  requestId?: string;
  actorId?: string | null;
  causationId?: string | null;
  correlationId?: string | null;
};

export type AppendResult = { streamVersion: number; positions: number[] };

export type RecordedEvent = {
  position: number;
  streamId: string;
  streamVersion: number;
  type: EventType;
  schemaVersion: number;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  transactionId: string;
  recordedAt: Date;
};

/** Where a reader stands: everything up to and including (transactionId, position) was handed out. */
export type Checkpoint = { transactionId: string; position: number };
export const START: Checkpoint = { transactionId: "0", position: 0 };

export class WrongExpectedVersionError extends Error {
  override name = "WrongExpectedVersionError";
}
export class IdempotencyKeyReusedError extends Error {
  override name = "IdempotencyKeyReusedError";
}
export class InvalidEventError extends Error {
  override name = "InvalidEventError";
}

/** SQLSTATEs raised by event_store.append_events. */
export const SQLSTATE = {
  wrongExpectedVersion: "ES409",
  idempotencyKeyReused: "ES422",
  immutable: "ES403",
} as const;

export function validateEvent(event: DomainEvent): { type: EventType; schemaVersion: number; data: unknown } {
  if (!isEventType(event.type)) throw new InvalidEventError(`unknown event type ${String(event.type)}`);
  const schema = eventSchemas[event.type];
  const parsed = schema.data.safeParse(event.data);
  if (!parsed.success) throw new InvalidEventError(`${event.type}: ${parsed.error.message}`);
  return { type: event.type, schemaVersion: schema.version, data: parsed.data };
}

export async function appendToStream(
  sql: Sql,
  streamId: string,
  expected: ExpectedVersion,
  events: DomainEvent[],
  options: { metadata?: EventMetadata; idempotencyKey?: string } = {},
): Promise<AppendResult> {
  const validated = events.map(validateEvent);
  const expectedText = typeof expected === "number" ? String(expected) : expected;
  try {
    const [row] = await sql`
      select event_store.append_events(
        ${streamId}, ${expectedText}, ${sql.json(validated as never)}, ${
      sql.json((options.metadata ?? {}) as never)
    },
        ${options.idempotencyKey ?? null}
      ) as result`;
    return row!.result as AppendResult;
  } catch (error) {
    throw translateError(error);
  }
}

export function translateError(error: unknown): unknown {
  const code = (error as { code?: string }).code;
  const message = (error as Error).message;
  if (code === SQLSTATE.wrongExpectedVersion) return new WrongExpectedVersionError(message);
  if (code === SQLSTATE.idempotencyKeyReused) return new IdempotencyKeyReusedError(message);
  return error;
}

type EventRow = {
  position: number;
  stream_id: string;
  stream_version: number;
  type: EventType;
  schema_version: number;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  transaction_id: string;
  recorded_at: Date;
};

function toRecorded(row: EventRow): RecordedEvent {
  return {
    position: row.position,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    type: row.type,
    schemaVersion: row.schema_version,
    data: row.data,
    metadata: row.metadata,
    transactionId: row.transaction_id,
    recordedAt: row.recorded_at,
  };
}

/** Events after the checkpoint in commit-safe order; never skips one committed out of position order. */
export async function readAll(sql: Sql, after: Checkpoint, limit = 1000): Promise<RecordedEvent[]> {
  const rows = await sql<EventRow[]>`
    select position, stream_id, stream_version, type, schema_version, data, metadata,
           transaction_id::text as transaction_id, recorded_at
    from event_store.read_all(${after.transactionId}::xid8, ${after.position}, ${limit})`;
  return rows.map(toRecorded);
}

export async function readStream(
  sql: Sql,
  streamId: string,
  afterVersion = 0,
  limit = 1000,
): Promise<RecordedEvent[]> {
  const rows = await sql<EventRow[]>`
    select position, stream_id, stream_version, type, schema_version, data, metadata,
           transaction_id::text as transaction_id, recorded_at
    from event_store.read_stream(${streamId}, ${afterVersion}, ${limit})`;
  return rows.map(toRecorded);
}

export async function loadCheckpoint(sql: Sql, consumer: string): Promise<Checkpoint> {
  const [row] = await sql<{ transaction_id: string; position: number }[]>`
    select transaction_id::text as transaction_id, position from event_store.checkpoints where consumer = ${consumer}`;
  return row ? { transactionId: row.transaction_id, position: row.position } : START;
}

export async function saveCheckpoint(sql: Sql, consumer: string, checkpoint: Checkpoint): Promise<void> {
  await sql`select event_store.save_checkpoint(${consumer}, ${checkpoint.transactionId}::xid8, ${checkpoint.position})`;
}

export function checkpointOf(event: RecordedEvent): Checkpoint {
  return { transactionId: event.transactionId, position: event.position };
}
