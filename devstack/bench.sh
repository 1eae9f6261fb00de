#!/usr/bin/env bash
# ./dev bench [scenario...]: bring the stack up, run the benchmark scenarios (bench/run.ts).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=stack.sh
source "$ROOT/devstack/stack.sh"
stack_up
psql_db -f "$ROOT/devstack/test_support.sql" >/dev/null
cd "$ROOT" && LOG_LEVEL=silent "$DENO" run -A bench/run.ts "$@"
