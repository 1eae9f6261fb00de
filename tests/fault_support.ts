// What the fault tests (tests/faults_*.integration_test.ts) share: a private stack to break, and what
// they check after a fault (the money invariants, and whether a failed attempt left any trace at all).
import type { Sql } from "../supabase/functions/_shared/infra/db.ts";
import { tokenConfigFromEnv } from "../supabase/functions/_shared/auth/config.ts";
import { signAccessToken } from "../supabase/functions/_shared/auth/jwt.ts";
import { signatureFor } from "../devstack/stripe_test_events.ts";
import { ownRedis } from "./local_redis.ts";
import {
  PRIVATE_JWT_SECRET,
  PRIVATE_WEBHOOK_SECRET,
  type PrivateGateway,
  startPrivateCluster,
  startPrivateGateway,
} from "./private_cluster.ts";
import { fetchFrom, loopbackIp } from "./support.ts";

/** Every broken invariant, as a sentence; empty when the money state is whole. */
export async function moneyViolations(sql: Sql): Promise<string[]> {
  const rows = await sql<{ v: string }[]>`
    -- Double entry: each event's entries sum to zero, each balance is the sum of its entries.
    select v from test_support.ledger_violations() as v
    union all
    select format('negative balance for %s', user_id) from public.user_accounts
      where available_minor < 0 or pending_minor < 0 or in_transit_minor < 0 or held_minor < 0
    union all
    select format('purchase %s has %s Purchased events', purchase_id, n) from (
      select p.purchase_id, p.status, (select count(*) from event_store.events e
        where e.stream_id = 'purchase-' || p.purchase_id and e.type = 'Purchased') as n
      from public.purchases p) c
    where n > 1 or (n = 1) <> (status <> 'pending' and status <> 'failed')
    union all
    -- Each (contract, period) once: one EarningsAccrued per period stream, and no contract accrued more
    -- periods than have been accrued.
    select format('period stream %s has %s EarningsAccrued', stream_id, count(*))
    from event_store.events where type = 'EarningsAccrued' group by stream_id having count(*) > 1
    union all
    select format('%s withdrawals under one id %s', count(*), withdrawal_id)
    from public.withdrawals group by withdrawal_id having count(*) > 1`;
  // The rebuild compares inside a transaction of its own that is rolled back.
  const reserved = await sql.reserve();
  try {
    await reserved`begin`;
    const differing = await reserved<
      { table_name: string }[]
    >`select table_name from projections.verify_rebuild()`;
    await reserved`rollback`;
    return [
      ...rows.map((r) => r.v),
      ...differing.map((d) => `projection ${d.table_name} differs after a rebuild`),
    ];
  } finally {
    reserved.release();
  }
}

/** Each table of the application's schemas with a digest of all its rows: two equal fingerprints mean
 * no row anywhere was added, changed or removed in between. */
export async function fingerprint(sql: Sql): Promise<Map<string, string>> {
  const tables = await sql<{ name: string }[]>`
    select format('%I.%I', table_schema, table_name) as name from information_schema.tables
    where table_type = 'BASE TABLE'
      and table_schema in ('public', 'money', 'event_store', 'private', 'projections', 'kyc', 'ops', 'admin')
    order by 1`;
  const parts = tables.map(({ name }) =>
    `select '${name}' as name, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest from ${name} t`
  );
  const rows = await sql.unsafe<{ name: string; digest: string }[]>(parts.join(" union all "));
  return new Map(rows.map((r) => [r.name, r.digest]));
}

/** The tables whose digests differ between two fingerprints. */
export function changedTables(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...new Set([...before.keys(), ...after.keys()])].filter((t) => before.get(t) !== after.get(t))
    .sort();
}

/** A private Postgres cluster, Redis (behind the Upstash endpoint) and functions gateway, all owned by
 * one test: Postgres restarts, Redis outages and killed function processes touch nothing shared. */
export async function privateStack(gatewayEnv: Record<string, string> = {}) {
  const cluster = await startPrivateCluster();
  let redis: Awaited<ReturnType<typeof ownRedis>> | undefined;
  let gateway: PrivateGateway | undefined;
  try {
    redis = await ownRedis();
    gateway = await startPrivateGateway({
      databaseUrl: cluster.url,
      upstashUrl: redis.url,
      upstashToken: redis.token,
      env: { DB_POOL_MAX: "10", ...gatewayEnv },
    });
  } catch (error) {
    await redis?.close();
    await cluster.remove();
    throw error;
  }
  const sql = cluster.sql(4);
  return {
    cluster,
    redis,
    gateway,
    sql,
    close: async () => {
      await sql.end({ timeout: 1 });
      await gateway!.stop();
      await redis!.close();
      await cluster.remove();
    },
  };
}

const tokenConfig = tokenConfigFromEnv((name) => (name === "JWT_SECRET" ? PRIVATE_JWT_SECRET : undefined));

/** An access token for a user of the private stack, as login would issue it. */
export function accessTokenFor(userId: string): Promise<string> {
  return signAccessToken({ userId, role: "user", sessionId: crypto.randomUUID() }, tokenConfig, new Date());
}

/** A Stripe delivery of `event` to the private gateway, signed now (a redelivery is signed anew, as
 * Stripe does, with the same event id and body). */
export async function deliverWebhook(
  gatewayFn: (path: string) => string,
  payload: string,
): Promise<Response> {
  const signature = await signatureFor(payload, PRIVATE_WEBHOOK_SECRET);
  return await fetchFrom(loopbackIp(), gatewayFn("stripe-webhook"), {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": signature },
    body: payload,
  });
}
