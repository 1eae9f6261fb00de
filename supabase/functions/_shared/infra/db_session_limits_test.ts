// The functions' pool limits every session, and hitting a limit is a 503, not a 500.
import assert from "node:assert/strict";
import { createSql, isUnavailableError, sessionLimitsFromEnv } from "./db.ts";
import { toProblem } from "../http/app.ts";
import { DATABASE_URL } from "../../../../tests/support.ts";

Deno.test("every session of the functions' pool runs with the statement, lock and idle limits", async () => {
  const sql = createSql(DATABASE_URL, 1, sessionLimitsFromEnv());
  try {
    const [row] = await sql<{ s: string; l: string; i: string }[]>`
      select current_setting('statement_timeout') as s, current_setting('lock_timeout') as l,
             current_setting('idle_in_transaction_session_timeout') as i`;
    assert.deepEqual({ ...row }, { s: "30s", l: "15s", i: "1min" });
  } finally {
    await sql.end();
  }
});

Deno.test("a statement over its time limit and a lock wait over its limit answer 503", async () => {
  const sql = createSql(DATABASE_URL, 2, {
    statement_timeout: 200,
    lock_timeout: 5000,
    idle_in_transaction_session_timeout: 60_000,
  });
  const locking = createSql(DATABASE_URL, 2, {
    statement_timeout: 5000,
    lock_timeout: 200,
    idle_in_transaction_session_timeout: 60_000,
  });
  try {
    const slow = await sql`select pg_sleep(2)`.catch((e) => e);
    assert.equal(slow.code, "57014");
    assert.ok(isUnavailableError(slow));
    assert.equal(toProblem(slow).status, 503);

    const key = Math.floor(Math.random() * 1e9);
    const waited = await locking.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${key})`;
      // Another session of the same pool waits for the same lock past lock_timeout.
      return await locking`select pg_advisory_xact_lock(${key})`.catch((e) => e);
    });
    assert.equal(waited.code, "55P03");
    assert.equal(toProblem(waited).status, 503);
  } finally {
    await sql.end();
    await locking.end();
  }
});
