// A Postgres cluster, a Redis and a functions gateway owned by one test, for faults that must not touch
// the shared local stack: restarting Postgres, SIGKILLing a backend (the postmaster then restarts every
// backend of the cluster) or killing the functions' process. Same binaries and settings as
// devstack/stack.sh, the same files in the same order as tests/scratch_db.ts; removed by the test.
//
// Ports: PRIVATE_DB_PORTS ("first-last", e.g. 28330-28339 on a shared machine) or else one the kernel
// says is free. Data lives under /var/tmp: Postgres runs as the postgres user, which may not reach a clone
// in a private home folder (stack.sh's pg_data_dir has the same rule).
import { createSql, type Sql } from "../supabase/functions/_shared/infra/db.ts";
import { freePort, waitFor } from "./local_redis.ts";

const PG_BIN = "/usr/lib/postgresql/15/bin";
const root = new URL("../", import.meta.url);
const decoder = new TextDecoder();

/** Postgres refuses to run as root: as root, its tools run as the postgres user, from / (which it can enter). */
async function asPostgres(command: string, args: string[]): Promise<string> {
  const isRoot = Deno.uid() === 0;
  const out = await new Deno.Command(isRoot ? "runuser" : command, {
    args: isRoot ? ["-u", "postgres", "--", command, ...args] : args,
    cwd: "/",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = decoder.decode(out.stdout) + decoder.decode(out.stderr);
  if (!out.success) throw new Error(`${command} ${args.join(" ")} failed: ${text}`);
  return text;
}

async function psql(url: string, args: string[], stdin?: string): Promise<void> {
  const child = new Deno.Command("psql", {
    args: ["-X", "-q", "-v", "ON_ERROR_STOP=1", url, ...args],
    env: { PGOPTIONS: "-c client_min_messages=warning" },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  if (!out.success) throw new Error(`psql ${args.join(" ")}: ${decoder.decode(out.stderr)}`);
}

function portCandidates(): number[] {
  const range = /^(\d+)-(\d+)$/.exec(Deno.env.get("PRIVATE_DB_PORTS") ?? "");
  if (!range) return [freePort()];
  const ports = [];
  for (let p = Number(range[1]); p <= Number(range[2]); p++) ports.push(p);
  return ports;
}

function portIsFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** Every migration file, in the order ./dev and the Supabase CLI apply them, between the local
 * bootstrap (roles and extensions Supabase provides) and the test helpers. */
async function schemaFiles(): Promise<string[]> {
  const migrations = [];
  for await (const entry of Deno.readDir(new URL("supabase/migrations/", root))) {
    if (entry.name.endsWith(".sql")) migrations.push(entry.name);
  }
  migrations.sort();
  return [
    new URL("devstack/bootstrap.sql", root).pathname,
    ...migrations.map((m) => new URL(`supabase/migrations/${m}`, root).pathname),
    new URL("devstack/test_support.sql", root).pathname,
  ];
}

export type PrivateCluster = {
  port: number;
  /** The migrated database. pg_cron lives in `postgres` (cron.database_name), so no job runs here
   * unless a test runs it: what the test sees is what it did. */
  url: string;
  sql: (max?: number) => Sql;
  /** pg_ctl stop -m fast (every session ended, a clean shutdown), then start. */
  stop: () => Promise<void>;
  start: () => Promise<void>;
  /** Resolves once the cluster accepts connections again (after a crash restart, say), bounded. */
  waitUntilAccepting: (timeoutMs?: number) => Promise<void>;
  /** Stops the cluster and deletes its files. */
  remove: () => Promise<void>;
};

export async function startPrivateCluster(): Promise<PrivateCluster> {
  const base = `/var/tmp/accrue-private-${crypto.randomUUID().slice(0, 8)}`;
  const data = `${base}/data`;
  await Deno.mkdir(data, { recursive: true, mode: 0o700 });
  if (Deno.uid() === 0) {
    const postgres = decoder.decode(
      (await new Deno.Command("id", { args: ["-u", "postgres"] }).output()).stdout,
    );
    const gid = decoder.decode((await new Deno.Command("id", { args: ["-g", "postgres"] }).output()).stdout);
    await Deno.chown(base, Number(postgres), Number(gid));
    await Deno.chown(data, Number(postgres), Number(gid));
  }
  await Deno.chmod(data, 0o700);
  const log = `${base}/postgres.log`;
  let port = 0;
  const pgCtl = (...args: string[]) => asPostgres(`${PG_BIN}/pg_ctl`, ["-D", data, ...args]);
  const start = async () => {
    await pgCtl("-o", `-p ${port}`, "-l", log, "-w", "-t", "60", "start");
  };
  try {
    await asPostgres(`${PG_BIN}/initdb`, [
      "-D",
      data,
      "-U",
      "postgres",
      "--auth=trust",
      "-E",
      "UTF8",
      "--locale=C.UTF-8",
    ]);
    // As stack.sh configures its cluster, smaller: a test cluster needs few connections and little memory.
    await Deno.writeTextFile(
      `${data}/postgresql.conf`,
      [
        "listen_addresses = '127.0.0.1'",
        "unix_socket_directories = ''",
        "max_connections = 100",
        "shared_buffers = 64MB",
        "shared_preload_libraries = 'pg_cron,pg_stat_statements'",
        "cron.database_name = 'postgres'",
        "fsync = on", // restarts and crashes are the point: keep the durability guarantees of production
        "log_min_messages = warning",
        "",
      ].join("\n"),
      { append: true },
    );
    for (const candidate of portCandidates()) {
      if (!portIsFree(candidate)) continue;
      port = candidate;
      try {
        await start();
        break;
      } catch (error) {
        port = 0; // taken between the check and the start: try the next one
        if (portCandidates().length === 1) throw error;
      }
    }
    if (!port) {
      throw new Error(
        `no free port for a private cluster (PRIVATE_DB_PORTS=${Deno.env.get("PRIVATE_DB_PORTS")})`,
      );
    }
    const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const url = `postgres://postgres@127.0.0.1:${port}/accrue`;
    await psql(admin, ["-c", "create database accrue"]);
    // One psql for every file (each file its own transaction, as ./dev applies them): spawning a psql
    // per file was most of the set-up time on a loaded machine.
    const statements = [];
    for (const file of await schemaFiles()) statements.push("begin;", `\\i ${file}`, "commit;");
    await psql(url, ["-f", "-"], statements.join("\n"));

    // pg_isready, not a client pool: a pool's connections failing mid-recovery are noise to its caller.
    const waitUntilAccepting = (timeoutMs = 60_000) =>
      waitFor(
        async () => {
          const ready = await new Deno.Command(`${PG_BIN}/pg_isready`, {
            args: ["-q", "-h", "127.0.0.1", "-p", String(port), "-d", "accrue", "-t", "2"],
            stdout: "null",
            stderr: "null",
          }).output();
          return ready.success;
        },
        `the private cluster on ${port} to accept connections`,
        timeoutMs,
      );

    return {
      port,
      url,
      sql: (max = 10) => createSql(url, max),
      stop: async () => {
        await pgCtl("-m", "fast", "-w", "stop");
      },
      start,
      waitUntilAccepting,
      remove: async () => {
        await pgCtl("-m", "immediate", "-w", "stop").catch(() => {});
        await Deno.remove(base, { recursive: true });
      },
    };
  } catch (error) {
    await pgCtl("-m", "immediate", "-w", "stop").catch(() => {});
    await Deno.remove(base, { recursive: true }).catch(() => {});
    throw error;
  }
}

export type PrivateGateway = {
  url: string;
  fn: (path: string) => string;
  /** Kills the functions' process (SIGKILL: no cleanup, requests in flight die with it). */
  kill: () => Promise<void>;
  /** Starts it again on the same port with the same environment. */
  restart: () => Promise<void>;
  stop: () => Promise<void>;
};

export const PRIVATE_JWT_SECRET = "private-gateway-jwt-secret-at-least-32-characters";
export const PRIVATE_WEBHOOK_SECRET = "whsec_private_gateway_secret";

/** devstack/gateway.ts in its own process, on its own port, over the given database and Upstash
 * endpoint: the functions exactly as ./dev serves them. */
export async function startPrivateGateway(
  options: { databaseUrl: string; upstashUrl: string; upstashToken: string; env?: Record<string, string> },
): Promise<PrivateGateway> {
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    API_PORT: String(port),
    API_URL: url,
    DATABASE_URL: options.databaseUrl,
    SUPABASE_DB_URL: options.databaseUrl,
    UPSTASH_REDIS_REST_URL: options.upstashUrl,
    UPSTASH_REDIS_REST_TOKEN: options.upstashToken,
    JWT_SECRET: PRIVATE_JWT_SECRET,
    STRIPE_WEBHOOK_SECRET: PRIVATE_WEBHOOK_SECRET,
    // Never called by the routes these tests use; set so nothing falls back to the shared stack's.
    STRIPE_SECRET_KEY: "sk_test_local",
    STRIPE_API_BASE: `http://127.0.0.1:${freePort()}`,
    RESEND_API_KEY: "re_local",
    RESEND_BASE_URL: `http://127.0.0.1:${freePort()}`,
    LOG_LEVEL: Deno.env.get("PRIVATE_GATEWAY_LOGS") === "1" ? "info" : "silent",
    RUST_BACKTRACE: "0",
    NO_COLOR: "1",
    ...options.env,
  };
  let child: Deno.ChildProcess | undefined;
  const launch = async () => {
    child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-prompt", new URL("devstack/gateway.ts", root).pathname],
      env,
      stdin: "null",
      // PRIVATE_GATEWAY_LOGS=1 shows the gateway's own log lines (with LOG_LEVEL) when a fault test fails.
      stdout: Deno.env.get("PRIVATE_GATEWAY_LOGS") === "1" ? "inherit" : "null",
      stderr: Deno.env.get("PRIVATE_GATEWAY_LOGS") === "1" ? "inherit" : "null",
    }).spawn();
    const mine = child;
    let exited = false;
    mine.status.then(() => (exited = true));
    await waitFor(
      async () => {
        if (exited) throw new Error("the gateway exited");
        const res = await fetch(`${url}/functions/v1/packages`);
        await res.body?.cancel();
        return res.status === 200;
      },
      `the private gateway on ${port}`,
      120_000,
    );
  };
  const end = async (signal: Deno.Signal) => {
    if (!child) return;
    try {
      child.kill(signal);
    } catch { /* already gone */ }
    await child.status;
    child = undefined;
  };
  await launch();
  return {
    url,
    fn: (path) => `${url}/functions/v1/${path.replace(/^\//, "")}`,
    kill: () => end("SIGKILL"),
    restart: launch,
    stop: () => end("SIGTERM"),
  };
}
