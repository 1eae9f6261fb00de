// A connection the database ended is the database being unavailable: 503, never 500. The errors are the
// ones seen from postgres.js while Postgres restarted (tests/faults_restart.integration_test.ts).
import assert from "node:assert/strict";
import { isUnavailableError } from "./db.ts";
import { toProblem } from "../http/app.ts";

function nodeError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

Deno.test("a write to a socket Postgres closed (EPIPE), a reset and a closed connection answer 503", () => {
  for (
    const error of [
      nodeError("This socket has been ended by the other party", "EPIPE"),
      nodeError("read ECONNRESET", "ECONNRESET"),
      nodeError("write CONNECTION_CLOSED 127.0.0.1:5432", "CONNECTION_CLOSED"),
      nodeError("the database system is shutting down", "57P03"),
    ]
  ) {
    assert.ok(isUnavailableError(error), error.message);
    assert.equal(toProblem(error).status, 503, error.message);
  }
  assert.equal(toProblem(nodeError("syntax error", "42601")).status, 500, "a bug stays a 500");
});
