#!/usr/bin/env bash
# ./dev test: bring the local stack up (stopping it afterwards if it was not running), run the Deno
# suites and the pgTAP suites, and end with one line "N passed, N failed" summed over all of them.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=stack.sh
source "$ROOT/devstack/stack.sh"
set -e
was_up=0; stack_is_up && was_up=1
# Stop what we start however we leave, a failed start-up and an interrupt included.
if [[ $was_up == 0 ]]; then
  trap 'stack_down' EXIT
  trap 'exit 130' INT TERM
fi
stack_up
psql_db -f "$ROOT/devstack/test_support.sql" >/dev/null
set +e

passed=0 failed=0
out="$STATE_DIR/test-output"; mkdir -p "$out"

log "deno test"
(cd "$ROOT" && LOG_LEVEL=${LOG_LEVEL:-silent} "$DENO" test -A --no-prompt "${@:-.}") 2>&1 | tee "$out/deno.txt"
summary=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$out/deno.txt" | tail -n 1)
if [[ -n $summary ]]; then
  passed=$((passed + $(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$summary")))
  failed=$((failed + $(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$summary")))
else
  log "deno test printed no summary (it crashed or found nothing)"; failed=$((failed + 1))
fi

if [[ $# -gt 0 ]]; then
  # A subset is said out loud: only `./dev test` with no argument is the whole suite CI runs.
  log "only deno test $*: pg_prove, fmt, lint and the full type check were NOT run (./dev test runs everything)"
else
  # Formatting, lint and type checks of everything (deno test only checks what the tests import).
  for check in "fmt --check" "lint" "check supabase/functions/*/index.ts devstack/*.ts tests/*.ts bench/*.ts bench/scenarios/*.ts"; do
    # shellcheck disable=SC2086
    if (cd "$ROOT" && "$DENO" $check) >"$out/deno-${check%% *}.txt" 2>&1; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1)); log "deno $check failed:"; tail -n 20 "$out/deno-${check%% *}.txt" >&2
    fi
  done
  log "pg_prove supabase/tests"
  pg_prove -v -h 127.0.0.1 -p "$DB_PORT" -U postgres -d postgres --ext .sql -r "$ROOT/supabase/tests" 2>&1 | tee "$out/pgtap.txt"
  pg_passed=$(grep -cE '^ok [0-9]+' "$out/pgtap.txt")
  pg_failed=$(grep -cE '^not ok [0-9]+' "$out/pgtap.txt")
  grep -qE '^Result: PASS' "$out/pgtap.txt" || ((pg_failed > 0)) || { log "pg_prove did not pass"; pg_failed=1; }
  passed=$((passed + pg_passed)); failed=$((failed + pg_failed))
fi

# Stop what we started before the summary, so "N passed, N failed" is the last line printed.
if [[ $was_up == 0 ]]; then
  trap - EXIT
  stack_down
fi
echo "$passed passed, $failed failed"
((failed == 0))
