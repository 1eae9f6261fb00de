# The local stack: Postgres 15 (pg_cron, pgTAP) in a project-local cluster, Redis behind an
# Upstash-REST endpoint, and the functions gateway. Sourced by ./dev; every step is safe to repeat.

: "${API_PORT:=54321}" "${DB_PORT:=54322}" "${REDIS_PORT:=54379}" "${UPSTASH_PROXY_PORT:=54380}" "${STRIPE_API_PORT:=54381}"
: "${MAIL_PORT:=54324}"
: "${READ_DB_PORT:=54323}"
STATE_DIR="$ROOT/.local"
RUN_DIR="$STATE_DIR/run"
LOG_DIR="$STATE_DIR/log"
PG_BIN=/usr/lib/postgresql/15/bin
DENO="$ROOT/tools/node_modules/.bin/deno"
export RUST_BACKTRACE=0 NO_COLOR=1

log() { printf '[dev] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------- installation (a fresh Debian machine, as root, with Node and npm) ----------
ensure_installed() {
  local need=()
  [[ -x $PG_BIN/initdb ]] || need+=(postgresql-15 postgresql-contrib)
  [[ -f /usr/share/postgresql/15/extension/pg_cron.control ]] || need+=(postgresql-15-cron)
  [[ -f /usr/share/postgresql/15/extension/pgtap.control ]] || need+=(postgresql-15-pgtap)
  command -v pg_prove >/dev/null || need+=(libtap-parser-sourcehandler-pgtap-perl)
  command -v redis-server >/dev/null || need+=(redis-server)
  command -v curl >/dev/null || need+=(curl)
  [[ ${WITH_BENCH_TOOLS:-0} == 1 ]] && { command -v wrk >/dev/null || need+=(wrk); command -v pgbench >/dev/null || need+=(postgresql-contrib); }
  if ((${#need[@]})); then
    log "installing: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  if [[ ! -x $DENO ]]; then
    log "installing Deno from npm into tools/"
    # `npm ci` installs exactly the committed lockfile and never rewrites it, so setting up leaves the
    # clone clean (the lockfile lists every platform's optional binary package; npm picks this one).
    (cd "$ROOT/tools" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

# ---------- Postgres ----------
# Postgres tools run as the postgres user. From a folder that user cannot enter (a clone in a private
# home or a `mktemp -d` folder) they warn "could not change directory", so they start from /.
as_postgres() { (cd / && runuser -u postgres -- "$@"); }

pg_data_dir() {
  # Postgres runs as the postgres user, which must reach the cluster folder; a clone under a
  # private home folder cannot, so the cluster then lives in /var/tmp under a name tied to this clone.
  mkdir -p "$STATE_DIR"
  if as_postgres test -x "$STATE_DIR"; then
    echo "$STATE_DIR/pg"
  else
    echo "/var/tmp/accrue-pg-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)"
  fi
}

psql_db() { PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" "$@"; }

pg_start() {
  local data; data=$(pg_data_dir)
  if [[ ! -f $data/PG_VERSION ]]; then
    log "creating the Postgres cluster in $data"
    mkdir -p "$data"; chown postgres:postgres "$data"; chmod 0700 "$data"
    as_postgres "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 300
shared_buffers = 1GB
shared_preload_libraries = 'pg_cron,pg_stat_statements'
cron.database_name = 'postgres'
log_min_messages = warning
CONF
  fi
  # pg_stat_statements, as on Supabase (clusters made before it was added get it on their next start).
  if ! grep -q "pg_stat_statements" "$data/postgresql.conf"; then
    echo "shared_preload_libraries = 'pg_cron,pg_stat_statements'" >>"$data/postgresql.conf"
  fi
  if ! as_postgres "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    claim_port DB_PORT "$DB_PORT"
    mkdir -p "$LOG_DIR"
    # No `-l`: the postgres user may not reach .local/log, so root opens the log and the server inherits
    # the open file as its stdout and stderr (pg_ctl's own "waiting for server" lines land there too).
    as_postgres "$PG_BIN/pg_ctl" -D "$data" -o "-p $DB_PORT" -w -t 60 start >>"$LOG_DIR/postgres.log" 2>&1 </dev/null ||
      die "Postgres did not start; see $LOG_DIR/postgres.log"
    log "Postgres listening on 127.0.0.1:$DB_PORT"
  fi
}

pg_stop() {
  local data; data=$(pg_data_dir)
  [[ -f $data/PG_VERSION ]] || return 0
  if as_postgres "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_postgres "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null && log "Postgres stopped"
  fi
}

# ---------- the read replica (optional: READ_REPLICA=1 ./dev up, or ./dev replica up) ----------
# A streaming hot standby of the local cluster, as Supabase's read replica is of the project's database:
# a base backup with -R (standby.signal and primary_conninfo), its own folder beside the primary's and its
# own port (READ_DB_PORT). Postgres 15's defaults already stream (wal_level = replica, max_wal_senders = 10,
# initdb's pg_hba trusts local replication connections); replication_config_ensure only says so out loud
# for a cluster whose settings were changed.
replica_data_dir() { echo "$(pg_data_dir)-replica"; }
REPLICA_SLOT=accrue_read_replica

# The standby streams through a replication slot, so the primary keeps the WAL it has not received while
# it is stopped (without one, a big write while it is down removes the WAL it needs and it never catches
# up); max_slot_wal_keep_size bounds what an abandoned slot can hold (the slot is then lost, and the next
# replica_start takes a new base backup).
replication_config_ensure() {
  local level senders keep
  level=$(psql_db -tAc "show wal_level") senders=$(psql_db -tAc "show max_wal_senders")
  [[ $level != minimal && $senders -gt 0 ]] ||
    die "the primary cannot stream to a standby (wal_level=$level, max_wal_senders=$senders): set wal_level = replica and max_wal_senders = 10 in $(pg_data_dir)/postgresql.conf and restart it (./dev down; ./dev up)"
  keep=$(psql_db -tAc "show max_slot_wal_keep_size")
  if [[ $keep == -1 ]]; then
    psql_db -c "alter system set max_slot_wal_keep_size = '1GB'" -c "select pg_reload_conf()" >/dev/null
  fi
}

replica_start() {
  local data; data=$(replica_data_dir)
  # A command run from inside ./dev test sees the local cluster's DATABASE_URL exported, hence the URL test.
  [[ $DATABASE_URL == "postgres://postgres@127.0.0.1:$DB_PORT/postgres" ]] ||
    die "the local read replica follows the local cluster; unset DATABASE_URL"
  if as_postgres "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then return 0; fi
  replication_config_ensure
  # A standby whose slot is gone (lost, or the primary was made anew) cannot catch up: start it over.
  if [[ -f $data/PG_VERSION && -z $(psql_db -tAc "select 1 from pg_replication_slots where slot_name = '$REPLICA_SLOT' and wal_status <> 'lost'") ]]; then
    log "the read replica's slot on the primary is gone; taking a new base backup"
    rm -rf "$data"
  fi
  if [[ ! -f $data/PG_VERSION ]]; then
    log "taking a base backup of the primary into $data"
    psql_db -c "select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = '$REPLICA_SLOT' and not active" >/dev/null
    mkdir -p "$data"; chown postgres:postgres "$data"; chmod 0700 "$data"
    as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$DB_PORT" -U postgres -D "$data" -R -C -S "$REPLICA_SLOT" \
      -X stream --checkpoint=fast || { rm -rf "$data"; die "pg_basebackup from 127.0.0.1:$DB_PORT failed"; }
    # The standby needs neither the primary's memory nor its cron (pg_cron's jobs wait on a standby anyway).
    cat >>"$data/postgresql.conf" <<CONF
# read replica
shared_buffers = 128MB
hot_standby = on
hot_standby_feedback = on
CONF
  fi
  claim_port READ_DB_PORT "$READ_DB_PORT"
  mkdir -p "$LOG_DIR"
  as_postgres "$PG_BIN/pg_ctl" -D "$data" -o "-p $READ_DB_PORT" -w -t 120 start >>"$LOG_DIR/postgres-replica.log" 2>&1 </dev/null ||
    die "the read replica did not start; see $LOG_DIR/postgres-replica.log"
  log "read replica (hot standby) listening on 127.0.0.1:$READ_DB_PORT"
}

replica_stop() {
  local data; data=$(replica_data_dir)
  [[ -f $data/PG_VERSION ]] || return 0
  if as_postgres "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_postgres "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null && log "read replica stopped"
  fi
}

replica_is_up() { as_postgres "$PG_BIN/pg_ctl" -D "$(replica_data_dir)" status >/dev/null 2>&1; }

# Apply migrations the way the Supabase CLI records them, then the seed when it changed.
db_migrate() {
  [[ ${LOCAL_DB:-1} == 1 ]] && psql_db -f "$ROOT/devstack/bootstrap.sql" >/dev/null
  psql_db <<'SQL' >/dev/null
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (version text primary key, statements text[], name text);
create table if not exists supabase_migrations.seed_files (path text primary key, hash text not null);
SQL
  local file base version name applied=0
  for file in "$ROOT"/supabase/migrations/*.sql; do
    [[ -e $file ]] || continue
    base=$(basename "$file" .sql); version=${base%%_*}; name=${base#*_}
    [[ -n $(psql_db -tAc "select 1 from supabase_migrations.schema_migrations where version = '$version'") ]] && continue
    { cat "$file"; printf '\ninsert into supabase_migrations.schema_migrations (version, name, statements) values (:%s, :%s, array[:%s]);\n' "'v'" "'n'" "'s'"; } |
      psql_db --single-transaction -v v="$version" -v n="$name" -v s="$(cat "$file")" >/dev/null ||
      die "migration $base failed"
    applied=$((applied + 1))
  done
  ((applied)) && log "applied $applied migration(s)"
  local seed="$ROOT/supabase/seed.sql" hash
  if [[ -f $seed ]]; then
    hash=$(sha256sum "$seed" | cut -d' ' -f1)
    if [[ -z $(psql_db -tAc "select 1 from supabase_migrations.seed_files where path = 'supabase/seed.sql' and hash = '$hash'") ]]; then
      psql_db --single-transaction -f "$seed" >/dev/null || die "seed failed"
      psql_db -c "insert into supabase_migrations.seed_files values ('supabase/seed.sql', '$hash') on conflict (path) do update set hash = excluded.hash" >/dev/null
      log "applied the seed"
    fi
  fi
}

# ---------- background processes we own (pid files in .local/run) ----------
is_running() { [[ -f $RUN_DIR/$1.pid ]] && kill -0 "$(cat "$RUN_DIR/$1.pid")" 2>/dev/null; }

spawn() { # spawn NAME COMMAND...: start detached, log to .local/log/NAME.log
  local name=$1; shift
  is_running "$name" && return 0
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 < /dev/null &
  echo $! >"$RUN_DIR/$name.pid"
}

stop_process() {
  local name=$1 pid
  is_running "$name" || { rm -f "$RUN_DIR/$name.pid"; return 0; }
  pid=$(cat "$RUN_DIR/$name.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$RUN_DIR/$name.pid"
  log "$name stopped"
}

# A port we are about to listen on must be free. Another program (a second clone's stack, say) may
# listen there: that is final. And the default ports lie inside the kernel's ephemeral range, so an
# outgoing connection may hold one while it is open and for 60 s after it closes (TIME_WAIT, which even
# SO_REUSEADDR does not pass): that passes, so it is retried for 75 s. Either way the message says which
# variable to change.
claim_port() { # claim_port VARIABLE PORT
  local deadline=$((SECONDS + 75)) said=0
  local advice="set $1 to a free port, e.g. export $1=$(($2 + 1000))"
  until "$DENO" run --allow-net --no-prompt "$ROOT/devstack/port_free.ts" "$2"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then
      die "another program listens on 127.0.0.1:$2 (see: ss -ltnp | grep :$2); $advice"
    fi
    ((SECONDS < deadline)) || die "port $2 on 127.0.0.1 stayed in use (see: ss -tanp | grep :$2); $advice"
    ((said)) || { log "port $2 ($1) is held by a connection; waiting up to 75 s for it to be released"; said=1; }
    sleep 1
  done
}

# The waits below also stop as soon as our process has died: a port that answers then belongs to
# somebody else, and the log says why ours did not start.
wait_for_url() { # wait_for_url NAME URL SECONDS
  local deadline=$((SECONDS + $3))
  until curl -fsS -o /dev/null "$2" 2>/dev/null; do
    is_running "$1" || return 1
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
  is_running "$1"
}

wait_for_port() { # wait_for_port NAME PORT SECONDS
  local deadline=$((SECONDS + $3))
  until (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; do
    is_running "$1" || return 1
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
  is_running "$1"
}

start_service() { # start_service NAME VARIABLE PORT COMMAND...: claim the port, spawn, wait for it to listen
  local name=$1 var=$2 port=$3; shift 3
  is_running "$name" && return 0
  claim_port "$var" "$port"
  spawn "$name" "$@"
  wait_for_port "$name" "$port" 180 || die "$name did not start on port $port; see $LOG_DIR/$name.log"
}

# ---------- the whole stack ----------
stack_env() {
  if [[ -n ${DATABASE_URL:-} ]]; then LOCAL_DB=0; else LOCAL_DB=1; DATABASE_URL="postgres://postgres@127.0.0.1:$DB_PORT/postgres"; fi
  if [[ -n ${UPSTASH_REDIS_REST_URL:-} ]]; then LOCAL_REDIS=0; else
    LOCAL_REDIS=1
    UPSTASH_REDIS_REST_URL="http://127.0.0.1:$UPSTASH_PROXY_PORT"
    UPSTASH_REDIS_REST_TOKEN="${UPSTASH_REDIS_REST_TOKEN:-local-dev-token}"
    REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
  fi
  # The local stack's JWT secret is the one `supabase start` uses; production sets its own.
  : "${JWT_SECRET:=super-secret-jwt-token-with-at-least-32-characters-long}"
  : "${STRIPE_WEBHOOK_SECRET:=whsec_local_development_secret}"
  # No Stripe account locally: API calls go to devstack/fake_stripe_api.ts unless a real key is set.
  if [[ -n ${STRIPE_SECRET_KEY:-} && $STRIPE_SECRET_KEY != sk_test_local ]]; then LOCAL_STRIPE=0; else
    LOCAL_STRIPE=1
    STRIPE_SECRET_KEY=sk_test_local
    STRIPE_API_BASE="http://127.0.0.1:$STRIPE_API_PORT"
  fi
  # No Resend account locally: the SDK talks to devstack/local_mail.ts unless a real key is set.
  if [[ -n ${RESEND_API_KEY:-} && $RESEND_API_KEY != re_local ]]; then LOCAL_MAIL=0; else
    LOCAL_MAIL=1
    RESEND_API_KEY=re_local
    RESEND_BASE_URL="http://127.0.0.1:$MAIL_PORT"
  fi
  : "${EMAIL_DRAIN_SECRET:=local-drain-secret}"
  : "${API_URL:=http://127.0.0.1:$API_PORT}"
  # The read replica: its URL when this stack runs one (READ_REPLICA=1); unset, reads go to the primary.
  if [[ -z ${READ_DATABASE_URL:-} && ${READ_REPLICA:-0} == 1 && $LOCAL_DB == 1 ]]; then
    READ_DATABASE_URL="postgres://postgres@127.0.0.1:$READ_DB_PORT/postgres"
  fi
  [[ -n ${READ_DATABASE_URL:-} ]] && export READ_DATABASE_URL
  export READ_DB_PORT
  export LOCAL_MAIL RESEND_API_KEY EMAIL_DRAIN_SECRET MAIL_PORT
  [[ -n ${RESEND_BASE_URL:-} ]] && export RESEND_BASE_URL
  export DATABASE_URL UPSTASH_REDIS_REST_URL UPSTASH_REDIS_REST_TOKEN REDIS_URL LOCAL_DB LOCAL_REDIS \
    JWT_SECRET STRIPE_WEBHOOK_SECRET API_URL API_PORT DB_PORT REDIS_PORT UPSTASH_PROXY_PORT \
    LOCAL_STRIPE STRIPE_SECRET_KEY STRIPE_API_PORT
  [[ -n ${STRIPE_API_BASE:-} ]] && export STRIPE_API_BASE
  return 0
}

stack_up() {
  ensure_installed
  stack_env
  [[ $LOCAL_DB == 1 ]] && pg_start
  db_migrate
  [[ ${READ_REPLICA:-0} == 1 && $LOCAL_DB == 1 ]] && replica_start
  if [[ $LOCAL_REDIS == 1 ]]; then
    start_service redis REDIS_PORT "$REDIS_PORT" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no
    start_service upstash-proxy UPSTASH_PROXY_PORT "$UPSTASH_PROXY_PORT" "$DENO" run -A "$ROOT/devstack/upstash_proxy.ts"
  fi
  if [[ $LOCAL_STRIPE == 1 ]]; then
    start_service fake-stripe-api STRIPE_API_PORT "$STRIPE_API_PORT" "$DENO" run -A "$ROOT/devstack/fake_stripe_api.ts"
  fi
  if [[ $LOCAL_MAIL == 1 ]]; then
    start_service local-mail MAIL_PORT "$MAIL_PORT" "$DENO" run -A "$ROOT/devstack/local_mail.ts"
    log "local inbox at http://127.0.0.1:$MAIL_PORT (./dev mail [address])"
  fi
  # The gateway loads every function (and, on a first run, downloads their npm packages) before it listens.
  start_service gateway API_PORT "$API_PORT" "$DENO" run -A "$ROOT/devstack/gateway.ts"
  wait_for_url gateway "$API_URL/functions/v1/health" 120 ||
    die "the gateway did not become healthy; see $LOG_DIR/gateway.log and $LOG_DIR/upstash-proxy.log"
  # What pg_cron + pg_net do in production: POST /email/drain on a timer.
  spawn mail-drainer "$DENO" run -A "$ROOT/devstack/mail_drain_timer.ts"
  log "functions served at $API_URL/functions/v1/<function>"
}

stack_down() {
  stop_process mail-drainer
  stop_process gateway
  stop_process local-mail
  stop_process fake-stripe-api
  stop_process upstash-proxy
  stop_process redis
  replica_stop
  pg_stop
}

stack_is_up() { is_running gateway; }
