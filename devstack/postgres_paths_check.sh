#!/usr/bin/env bash
# CI's check that the postgres user reaches every path it needs (run as root, after ./dev test):
#  1. this clone: the cluster folder the stack uses (.local/pg, or /var/tmp/accrue-pg-<n> when the clone
#     sits where postgres cannot enter), read, written and entered as the postgres user;
#  2. a clone in a private folder (mode 0700, as `mktemp -d` makes): the stack must choose a cluster
#     folder outside it, which the postgres user can then enter and write, as pg_start sets it up.
# Cheap: no second cluster is started (the full case was verified by hand; see README "The two commands").
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=devstack/stack.sh
source "$ROOT/devstack/stack.sh"
failed=0
fail() { log "postgres paths: $*"; failed=1; }

if [[ -z ${DATABASE_URL:-} ]]; then
  data=$(pg_data_dir)
  as_postgres test -d "$data" -a -r "$data" -a -w "$data" -a -x "$data" ||
    fail "the postgres user cannot read, write and enter the cluster folder $data"
  as_postgres test -r "$data/PG_VERSION" || fail "the postgres user cannot read $data/PG_VERSION"
fi

private=$(mktemp -d) # 0700, owned by root
trap 'rm -rf "$private"' EXIT
[[ $(stat -c %a "$private") == 700 ]] || fail "mktemp -d made $(stat -c %a "$private"), not 700"
chosen=$(ROOT="$private/clone" STATE_DIR="$private/clone/.local" pg_data_dir)
case $chosen in
  "$private"/*) fail "a clone in a private folder would keep its cluster inside it ($chosen)" ;;
  *)
    created=0
    [[ -e $chosen ]] || { mkdir -p "$chosen"; chown postgres:postgres "$chosen"; chmod 0700 "$chosen"; created=1; }
    as_postgres test -w "$chosen" -a -x "$chosen" || fail "the postgres user cannot write $chosen"
    ((created)) && rm -rf "$chosen"
    ;;
esac
((failed == 0)) && log "postgres paths: the postgres user reaches the cluster folder (here and for a private clone)"
exit "$failed"
