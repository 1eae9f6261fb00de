// The one Postgres client. Supabase gives functions SUPABASE_DB_URL; the local stack sets DATABASE_URL.
// prepare: false because Supabase's transaction pooler has no prepared statements.
import postgres from "postgres";

export type Sql = postgres.Sql;

/** Limits on every session of the functions' pool (startup parameters, in ms), so a runaway query cannot
 * hold the money tables: a statement is cancelled after 30 s, a lock wait after 15 s (longer than the
 * hourly earnings run holds its lock), an open idle transaction after 60 s. Both answer 503 (retry). */
export type SessionLimits = {
  statement_timeout: number;
  lock_timeout: number;
  idle_in_transaction_session_timeout: number;
  application_name?: string;
};

export function sessionLimitsFromEnv(): SessionLimits {
  return {
    statement_timeout: Number(Deno.env.get("DB_STATEMENT_TIMEOUT_MS") ?? 30_000),
    lock_timeout: Number(Deno.env.get("DB_LOCK_TIMEOUT_MS") ?? 15_000),
    idle_in_transaction_session_timeout: Number(Deno.env.get("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS") ?? 60_000),
  };
}

export function createSql(
  url: string,
  max = Number(Deno.env.get("DB_POOL_MAX") ?? 10),
  limits?: SessionLimits,
): Sql {
  return postgres(url, {
    prepare: false,
    max,
    idle_timeout: 30,
    connect_timeout: 5,
    onnotice: () => {},
    types: { bigint: safeBigint },
    ...(limits ? { connection: limits } : {}),
  });
}

// int8 (oid 20) arrives as a JS number; money in minor units stays far below 2^53, and a value that
// does not fit fails loudly instead of rounding.
const safeBigint = {
  to: 20,
  from: [20],
  serialize: (value: number | bigint) => value.toString(),
  parse: (text: string) => {
    const value = Number(text);
    if (!Number.isSafeInteger(value)) throw new RangeError(`int8 ${text} exceeds Number.MAX_SAFE_INTEGER`);
    return value;
  },
};

let shared: Sql | undefined;

/** The process-wide pool, created on first use so modules import without configuration. */
export function db(): Sql {
  if (!shared) {
    const url = Deno.env.get("SUPABASE_DB_URL") ?? Deno.env.get("DATABASE_URL");
    if (!url) throw new Error("Set DATABASE_URL (or SUPABASE_DB_URL on Supabase).");
    shared = createSql(url, undefined, sessionLimitsFromEnv());
  }
  return shared;
}

let sharedRead: Sql | undefined;
export const READ_APPLICATION_NAME = "accrue-read";

/** The pool for reads that may lag the primary by the replica's replay lag: admin finance exports (and
 * whatever else reads in bulk and can accept it). READ_DATABASE_URL is the read replica's URL (Supabase:
 * the replica's pooler URL; locally `READ_REPLICA=1 ./dev up`); unset, it is the primary's pool itself.
 * Its sessions are named `accrue-read` (pg_stat_activity.application_name on the replica). */
export function readDb(): Sql {
  const url = Deno.env.get("READ_DATABASE_URL");
  if (!url) return db();
  sharedRead ??= createSql(url, undefined, {
    ...sessionLimitsFromEnv(),
    application_name: READ_APPLICATION_NAME,
  });
  return sharedRead;
}

const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  // A write to a connection the server has closed (a Postgres restart): Node's "This socket has been ended
  // by the other party". Found by tests/faults_restart.integration_test.ts, where it answered 500.
  "EPIPE",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "ENOTFOUND",
  "57P01",
  "57P03",
  // statement_timeout and lock_timeout (sessionLimitsFromEnv): the database is busy, not the client wrong.
  "57014",
  "55P03",
]);

/** A dependency being down is a 503 for the client, never a 500. */
export function isUnavailableError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && UNAVAILABLE_CODES.has(code);
}

/** A deadlock or serialization failure: nothing was written, and the same request may be retried. */
export function isRetryableConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "40P01" || code === "40001";
}

// Values Postgres refuses that a client can send and validation lets through (a NUL character, a
// year 0 timestamp, text that is not valid in the database encoding): the client's 400, never a 500.
const UNACCEPTABLE_VALUE_CODES = new Set(["22021", "22P05", "22008", "22007"]);

export function isUnacceptableValue(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && UNACCEPTABLE_VALUE_CODES.has(code);
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A uuid as SQL text (`'…'::uuid`), for the few hot reads sent without parameters. With `prepare: false`
 * (the transaction pooler), postgres.js sends a query that has parameters in two round trips (it asks for
 * the parameter types first) and holds the connection meanwhile; a query without parameters goes in one and
 * is pipelined behind others on the same connection. 100 concurrent `private.account_json` calls over 10
 * connections: 2,182–2,492 calls/s with a parameter, 5,521–6,203 with the literal (alternating 2 s rounds).
 * Only a canonical uuid passes, so nothing but hex digits and dashes ever reaches the SQL text. */
export function uuidLiteral(value: string): string {
  if (!UUID_PATTERN.test(value)) throw new TypeError("not a uuid");
  return `'${value}'::uuid`;
}
