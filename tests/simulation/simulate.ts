// A deterministic simulation of the money core (issue 13). One seed drives everything: which step comes
// next, who signs up under whom, who buys, which webhooks arrive twice or out of order, refunds,
// disputes, withdrawals and admins' decisions, how far the clock moves, and the faults (a backend killed
// in the middle of a command, then the command retried; the same webhook on two connections at once).
// After every step the money invariants are checked (tests/simulation/invariants.ts), the rebuild every
// `rebuildEvery` steps and at the end. The run ends with a digest of the final state, over canonical
// content only (ids the simulator chose, amounts, statuses, simulated times), so a replay of the same
// seed prints the same digest.
//
// Determinism: no Math.random and no wall clock. Every id the simulator sends is derived from the seed.
// The clock is simulated: commands that take a time get it as an argument, and every session of the run
// starts with the schema sim_clock first on its search_path, whose now() and clock_timestamp() read a
// one-row table the simulator moves forward, so the unchanged money functions that read the clock read the
// simulated one (column defaults were bound to pg_catalog.now() when created and keep the real time, which
// the digest leaves out).
import type { Sql } from "../../supabase/functions/_shared/infra/db.ts";
import { createSql } from "../../supabase/functions/_shared/infra/db.ts";
import postgres from "postgres";
import { moneyViolations, rebuildViolations } from "./invariants.ts";
import { prng } from "./prng.ts";
import { injectBug } from "./bugs.ts";

export type SimulationOptions = {
  seed: number;
  steps: number;
  /** A scratch database with every migration and devstack/test_support.sql applied, used by this run alone. */
  url: string;
  /** Check that rebuilding the projections gives the live ones every this many steps (and at the end). */
  rebuildEvery?: number;
  /** A deliberately injected bug (tests/simulation/bugs.ts), to show that the invariants catch it. */
  bug?: string;
  /** Receives the canonical final state the digest is taken over (to compare two runs that differ). */
  onState?: (canonical: string) => void;
  /** Each step's description, as it runs. */
  onStep?: (step: number, line: string) => void;
};

/** The digest, how many steps of each kind ran, and where the (real) time went: for tuning only, never
 * part of the state or the digest. */
export type SimulationResult = {
  digest: string;
  counts: Record<string, number>;
  elapsedMs: { steps: number; invariants: number; rebuilds: number };
};

/** A broken invariant (or an unexpected error): the seed and step replay it. */
export class SimulationFailure extends Error {
  constructor(
    readonly seed: number,
    readonly step: number,
    readonly violations: string[],
    readonly recent: string[],
  ) {
    super(
      `seed ${seed} failed at step ${step}:\n  ${violations.join("\n  ")}\nlast steps:\n  ${
        recent.join("\n  ")
      }`,
    );
  }
}

const SIM_START_MS = Date.UTC(2027, 0, 4, 0, 0, 0);
const HOUR_MS = 3_600_000;
// The refusals a command may answer to a client: expected outcomes, not failures.
const REFUSALS = new Set(["MO402", "MO403", "MO405", "MO409", "MO410", "MO412", "MO413", "MO414", "MO423"]);
const REFERRAL_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ";

type User = { id: string; ancestors: string[]; kyc: boolean };
type Purchase = { id: string; buyer: string; price: number; checked: boolean };
type StripeEvent = { id: string; type: string; command: Record<string, unknown> };

function safeNumber(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`int8 ${text} exceeds Number.MAX_SAFE_INTEGER`);
  return value;
}

/** Adds the simulated clock to a scratch database (idempotent). */
async function installClock(sql: Sql): Promise<void> {
  await sql.unsafe(`
    create schema if not exists sim_clock;
    create table if not exists sim_clock.clock (at timestamptz not null);
    insert into sim_clock.clock select '${
    new Date(SIM_START_MS).toISOString()
  }' where not exists (select from sim_clock.clock);
    create or replace function sim_clock.now() returns timestamptz
      language sql stable as $$ select at from sim_clock.clock $$;
    create or replace function sim_clock.clock_timestamp() returns timestamptz
      language sql volatile as $$ select at from sim_clock.clock $$;`);
}

export async function simulate(options: SimulationOptions): Promise<SimulationResult> {
  const { seed, steps, url } = options;
  const rebuildEvery = options.rebuildEvery ?? 100;
  const random = prng(seed);
  const chance = (p: number) => random() < p;
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
  const seedHex = (seed >>> 0).toString(16).padStart(8, "0");
  const counters = new Map<string, number>();
  // Ids from the seed: <seed>-<kind>-4000-8000-<n>, valid UUIDs that say what they are.
  const nextId = (kind: string) => {
    const n = (counters.get(kind) ?? 0) + 1;
    counters.set(kind, n);
    return `${seedHex}-${kind}-4000-8000-${n.toString(16).padStart(12, "0")}`;
  };

  // Every session starts with the simulated clock first on its search_path. Statements are prepared
  // (unlike the functions' pool, nothing here goes through Supabase's pooler): the invariants are
  // planned once per connection, not after every step.
  const setup = createSql(url, 1);
  const [pathRow] = await setup<{ path: string }[]>`select current_setting('search_path') as path`;
  const searchPath = `sim_clock, pg_catalog, ${pathRow!.path}`;
  await installClock(setup);
  await setup.end();
  const sql: Sql = postgres(url, {
    prepare: true,
    max: 4,
    onnotice: () => {},
    connection: { search_path: searchPath },
    types: { bigint: { to: 20, from: [20], serialize: (v: number) => String(v), parse: safeNumber } },
  });
  let clockMs = SIM_START_MS;
  const clock = () => new Date(clockMs).toISOString();

  /** One command (one statement: its own transaction) on the simulated clock. */
  const run = <T>(db: Sql, command: (tx: Sql) => Promise<T>): Promise<T> => command(db);
  /** The command's answer, or the refusal's code when it is one a client may get; anything else throws. */
  const attempt = async <T>(db: Sql, command: (tx: Sql) => Promise<T>) => {
    try {
      return { ok: true as const, value: await run(db, command) };
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code && REFUSALS.has(code)) return { ok: false as const, code };
      throw error;
    }
  };

  const users: User[] = [];
  const purchases: Purchase[] = [];
  const delivered: StripeEvent[] = [];
  const withdrawals: string[] = [];
  const packages: { id: string; price: number }[] = [];
  const counts: Record<string, number> = {};
  let currentStep = -1;
  let kind = "setup"; // the kind of the step in progress, for a failure's message
  const recent: string[] = [];
  const note = (step: number, line: string) => {
    recent.push(`${step}: ${line}`);
    if (recent.length > 12) recent.shift();
    options.onStep?.(step, line);
  };

  const deliverText = "select money.handle_stripe_event(:'id', :'type', :'command'::jsonb)";
  const eventVars = (e: StripeEvent) => ({ id: e.id, type: e.type, command: JSON.stringify(e.command) });
  /** The checkout's webhook (or a refund's, a dispute's) through money.handle_stripe_event. */
  const deliver = (db: Sql, event: StripeEvent) =>
    run(db, async (tx) => {
      const [row] = await tx<{ r: { outcome: string; duplicate: boolean } }[]>`
        select money.handle_stripe_event(${event.id}, ${event.type}, ${
        tx.json(event.command as never)
      }) as r`;
      return row!.r;
    });

  /** Start the command in a psql of its own, kill that backend while the command waits for the earnings
   * lock (held here, so it is mid-command), then retry it as usual: the killed attempt must leave no
   * trace. (psql, because the client library does not survive its backend dying inside a transaction.)
   * The command's text names its arguments as psql variables (:'name'). */
  let victims = 0;
  const killedThenRetried = async <T>(
    text: string,
    vars: Record<string, string>,
    retry: () => Promise<T>,
  ) => {
    const application = `sim_victim_${seedHex}_${++victims}`;
    const holder = await sql.reserve();
    try {
      await holder`begin`;
      await holder`select pg_advisory_xact_lock(hashtextextended('accrue:earnings', 0))`;
      const psql = new Deno.Command("psql", {
        args: [
          "-X",
          "-q",
          "-v",
          "ON_ERROR_STOP=1",
          ...Object.entries(vars).flatMap(([k, v]) => ["-v", `${k}=${v}`]),
          url,
        ],
        env: { PGAPPNAME: application },
        stdin: "piped",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const writer = psql.stdin.getWriter();
      await writer.write(new TextEncoder().encode(`begin;
set local search_path = ${searchPath};
${text};
commit;
`));
      await writer.close();
      // Wait until the command is blocked on the lock (mid-command), then kill it. A command that needs
      // no lock (a duplicate, a deferred refund) may finish first: then the retry is a redelivery.
      let finished = false;
      const output = psql.output().then((out) => {
        finished = true;
        return out;
      });
      let pid: number | undefined;
      while (pid === undefined && !finished) {
        // From another session: inside the holder's transaction the statistics are a snapshot.
        const [row] = await sql<{ pid: number }[]>`
          select pid from pg_stat_activity
          where datname = current_database() and application_name = ${application} and wait_event_type = 'Lock'`;
        pid = row?.pid;
        if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      if (pid !== undefined) {
        await holder`select pg_terminate_backend(${pid})`;
        const out = await output;
        if (out.success) throw new Error("the command finished although its backend was killed");
      } else {
        const out = await output;
        if (!out.success) {
          throw new Error(`the command failed before the kill: ${new TextDecoder().decode(out.stderr)}`);
        }
      }
      await holder`rollback`;
    } finally {
      holder.release();
    }
    return await retry();
  };

  const elapsedMs = { steps: 0, invariants: 0, rebuilds: 0 };
  const violationsAt = async (step: number, heavy: boolean) => {
    let started = performance.now();
    const found = await moneyViolations(sql);
    elapsedMs.invariants += performance.now() - started;
    if (heavy) {
      started = performance.now();
      found.push(...await rebuildViolations(sql));
      elapsedMs.rebuilds += performance.now() - started;
    }
    if (found.length > 0) throw new SimulationFailure(seed, step, found, recent);
  };

  try {
    if (options.bug) await injectBug(sql, options.bug);
    const [adminRow] = await sql<{ admin: string }[]>`select test_support.admin() as admin`;
    const admin = adminRow!.admin;
    // The plan as the database holds it (another change may set other default rates).
    const plan = new Map<string, number>();
    for (
      const r of await sql<{ level: number; vip_level: number; rate_bps: number }[]>`
      select level, vip_level, rate_bps from money.commission_rates`
    ) plan.set(`${r.level}/${r.vip_level}`, r.rate_bps);
    const maxRate = (level: number) =>
      Math.max(0, ...[...plan].filter(([k]) => k.startsWith(`${level}/`)).map(([, v]) => v));
    for (const [price, rateBps, days] of [[999, 90, 10], [12_345, 120, 5], [123_457, 60, 20]] as const) {
      const id = nextId("0004");
      await run(
        sql,
        (tx) =>
          tx`select money.publish_package(${id}::uuid, ${`Sim package ${price}`}, ${price}::bigint,
          (money.settings()).currency, ${rateBps}::int, ${days}::int, test_support.as_admin())`,
      );
      packages.push({ id, price });
    }

    /** The model's check of a newly paid purchase's commissions: the uplines of the simulated tree (not
     * the database's projection of it), floor(price x plan rate) each. */
    const checkCommissions = async (step: number, purchase: Purchase) => {
      const rows = await sql<
        {
          level: number;
          beneficiary_id: string | null;
          vip_level: number | null;
          rate_bps: number;
          amount_minor: number;
          reason: string;
        }[]
      >`select level, beneficiary_id, vip_level, rate_bps, amount_minor, reason from public.commissions
        where purchase_id = ${purchase.id} order by level`;
      if (rows.length === 0) return;
      purchase.checked = true;
      const ancestors = users.find((u) => u.id === purchase.buyer)!.ancestors;
      const wrong: string[] = [];
      for (const c of rows) {
        const upline = ancestors[c.level - 1] ?? null;
        const expectedRate = c.reason === "earned" ? plan.get(`${c.level}/${c.vip_level}`) : maxRate(c.level);
        const expectedReason = upline === null
          ? "no_upline"
          : c.reason === "earned"
          ? "earned"
          : "vip_ineligible";
        if (
          c.reason !== expectedReason ||
          (c.reason === "earned" ? c.beneficiary_id !== upline : c.beneficiary_id !== null) ||
          c.rate_bps !== expectedRate || c.amount_minor !== Math.floor((purchase.price * c.rate_bps) / 10000)
        ) {
          wrong.push(
            `model: commission level ${c.level} of ${purchase.id} is ${JSON.stringify(c)}, upline ${upline}`,
          );
        }
      }
      if (rows.length !== 10) wrong.push(`model: purchase ${purchase.id} has ${rows.length} commissions`);
      if (wrong.length > 0) throw new SimulationFailure(seed, step, wrong, recent);
    };

    for (let step = 0; step < steps; step++) {
      const r = users.length < 3 ? 0 : random();
      let line: string;
      currentStep = step;
      const stepStarted = performance.now();
      let paid: Purchase | undefined;
      if (r < 0.12) {
        kind = "signup";
        // A tree: mostly under someone, often under a recent signup (deep chains), sometimes a new root.
        const referrer = users.length > 0 && chance(0.9)
          ? (chance(0.5) ? users[users.length - 1 - int(0, Math.min(2, users.length - 1))]! : pick(users))
          : null;
        const id = nextId("0001");
        let n = counters.get("0001")!;
        let code = "";
        for (let i = 0; i < 8; i++, n = Math.floor(n / 30)) code = REFERRAL_ALPHABET[n % 30] + code;
        const kyc = chance(0.6);
        await run(
          sql,
          (tx) =>
            tx`select event_store.append_events('user-' || ${id}::text, 'no_stream', jsonb_build_array(jsonb_build_object(
            'type', 'UserRegistered',
            'data', jsonb_build_object('userId', ${id}::uuid, 'referrerId', ${referrer?.id ?? null}::uuid,
              'referralCode', ${code}::text))))`,
        );
        if (kyc) await run(sql, (tx) => tx`select test_support.approve_kyc(${id})`);
        users.push({ id, ancestors: referrer ? [referrer.id, ...referrer.ancestors] : [], kyc });
        line = `signup ${id} under ${referrer?.id ?? "nobody"}${kyc ? ", KYC approved" : ""}`;
      } else if (r < 0.28) {
        kind = "checkout";
        const pkg = pick(packages);
        const buyer = pick(users);
        const id = nextId("0002");
        const out = await attempt(
          sql,
          (tx) => tx`select money.start_checkout(${id}, ${buyer.id}, ${pkg.id}, ${"cs_" + id})`,
        );
        if (out.ok) purchases.push({ id, buyer: buyer.id, price: pkg.price, checked: false });
        line = `checkout ${id} by ${buyer.id}: ${out.ok ? "started" : out.code}`;
      } else if (r < 0.48 && purchases.length > 0) {
        kind = "pay";
        // A payment webhook: new, redelivered, the session's other event type, two at once, or killed
        // mid-command and retried. Amounts are the checkout's (amount_mismatch is the fuzzers' concern).
        const purchase = pick(purchases);
        paid = purchase;
        const fresh: StripeEvent = {
          id: `evt_${nextId("0005")}`,
          type: chance(0.5) ? "checkout.session.completed" : "checkout.session.async_payment_succeeded",
          command: {
            kind: "payment_succeeded",
            purchaseId: purchase.id,
            paymentIntentId: `pi_${purchase.id}`,
            amountMinor: purchase.price,
            currency: "usd",
          },
        };
        const mode = pick(["new", "new", "redeliver", "concurrent_same", "concurrent_pair", "killed"]);
        const event = mode === "redeliver" && delivered.length > 0 ? pick(delivered) : fresh;
        let outcome: string;
        if (mode === "concurrent_same" || mode === "concurrent_pair") {
          const other = mode === "concurrent_same" ? event : { ...event, id: `evt_${nextId("0005")}` };
          const both = await Promise.all([deliver(sql, event), deliver(sql, other)]);
          // Whichever ran first, exactly one of them may have paid.
          if (both.filter((o) => o.outcome === "purchased" && !o.duplicate).length > 1) {
            throw new SimulationFailure(seed, step, [
              `both concurrent deliveries paid: ${JSON.stringify(both)}`,
            ], recent);
          }
          delivered.push(other);
          outcome = both.map((o) => o.outcome).sort().join("+");
        } else if (mode === "killed") {
          outcome = (await killedThenRetried(deliverText, eventVars(event), () =>
            deliver(sql, event))).outcome +
            " after a kill";
        } else {
          outcome = (await deliver(sql, event)).outcome;
        }
        delivered.push(event);
        line = `pay ${purchase.id} (${mode}) via ${event.id}: ${outcome}`;
      } else if (r < 0.58 && purchases.length > 0) {
        kind = "refund";
        // Refunds (Stripe's cumulative total), disputes and won disputes, possibly before the payment.
        const purchase = pick(purchases);
        const which = pick(["refund", "refund", "refund", "dispute", "dispute_won"]);
        const event: StripeEvent = {
          id: `evt_${nextId("0005")}`,
          type: which === "refund"
            ? "charge.refunded"
            : which === "dispute"
            ? "charge.dispute.created"
            : "charge.dispute.closed",
          command: which === "refund"
            ? {
              kind: "refund",
              paymentIntentId: `pi_${purchase.id}`,
              refundedTotalMinor: Math.max(1, Math.floor(random() * purchase.price * 1.1)),
              currency: "usd",
            }
            : {
              kind: which,
              paymentIntentId: `pi_${purchase.id}`,
              disputeId: `dp_${purchase.id}`,
              currency: "usd",
            },
        };
        const killed = chance(0.1);
        const out = killed
          ? await killedThenRetried(deliverText, eventVars(event), () => deliver(sql, event))
          : await deliver(sql, event);
        if (chance(0.2)) await deliver(sql, event); // redelivered later: a duplicate
        delivered.push(event);
        line = `${which} ${purchase.id} ${JSON.stringify(event.command.refundedTotalMinor ?? "")}${
          killed ? " (killed, retried)" : ""
        }: ${out.outcome}`;
      } else if (r < 0.68) {
        kind = "withdraw";
        const candidates = await sql<{ user_id: string; available_minor: number }[]>`
          select user_id, available_minor from public.user_accounts where available_minor >= 1000 order by user_id`;
        const holder = candidates.length > 0 && chance(0.9) ? pick(candidates) : null;
        const user = holder ? holder.user_id : pick(users).id;
        const amount = holder ? int(1000, holder.available_minor) : int(1000, 5000);
        const id = nextId("0003");
        const request = (db: Sql) =>
          attempt(
            db,
            (tx) => tx`select money.request_withdrawal(${id}, ${user}, ${amount}, 'USD', ${"acct_" + id})`,
          );
        const killed = chance(0.1);
        const out = killed
          ? await killedThenRetried(
            "select money.request_withdrawal(:'id', :'user', :'amount', 'USD', :'destination')",
            { id, user, amount: String(amount), destination: `acct_${id}` },
            () => request(sql),
          )
          : await request(sql);
        if (out.ok) {
          withdrawals.push(id);
          if (chance(0.2)) await request(sql); // an Idempotency-Key retry: the same withdrawal, once
        }
        line = `withdraw ${amount} by ${user}${killed ? " (killed, retried)" : ""}: ${
          out.ok ? id : out.code
        }`;
      } else if (r < 0.78 && withdrawals.length > 0) {
        kind = "decide";
        const id = pick(withdrawals);
        const decision = pick(["approve", "approve", "mark_paid", "mark_paid", "reject"]);
        const out = await attempt(
          sql,
          (tx) => tx`select money.decide_withdrawal(${id}, ${admin}, ${decision}, ${"ref_" + id}, null)`,
        );
        line = `${decision} ${id}: ${out.ok ? "done" : out.code}`;
      } else if (r < 0.82) {
        kind = "freeze";
        const user = pick(users);
        const out = await attempt(sql, (tx) =>
          tx`select money.set_account_frozen(${user.id}, ${admin},
            case when money.is_frozen(${user.id}) then 'unfreeze' else 'freeze' end,
            case when money.is_frozen(${user.id}) then 'review_cleared' else 'fraud_suspected' end) as r`);
        line = `freeze toggled for ${user.id}: ${out.ok ? "done" : out.code}`;
      } else {
        kind = "clock";
        // Time passes: mostly hours, sometimes days, now and then past the commission hold; then the
        // jobs pg_cron would run, the earnings run sometimes twice at once.
        const hours = chance(0.05) ? int(24 * 14, 24 * 16) : chance(0.25) ? int(12, 48) : int(1, 6);
        clockMs += hours * HOUR_MS;
        await sql`update sim_clock.clock set at = ${clock()}::timestamptz`;
        const released = await run(
          sql,
          (tx) =>
            tx<{ n: number }[]>`select money.release_due_commissions(${clock()}::timestamptz, 5000) as n`,
        );
        const accrue = () =>
          run(
            sql,
            (tx) =>
              tx<
                { r: { periods: number } }[]
              >`select money.accrue_due_earnings(${clock()}::timestamptz, 10000) as r`,
          );
        const twice = chance(0.2);
        const runs = twice ? await Promise.all([accrue(), accrue()]) : [await accrue()];
        line = `clock +${hours}h to ${clock()}: released ${released[0]!.n}, periods ${
          runs.map((x) => x[0]!.r.periods).join("+")
        }`;
      }
      counts[kind] = (counts[kind] ?? 0) + 1;
      elapsedMs.steps += performance.now() - stepStarted;
      note(step, line);
      if (paid && !paid.checked) await checkCommissions(step, paid);
      await violationsAt(step, (step + 1) % rebuildEvery === 0 || step === steps - 1);
    }
    const canonical = await canonicalState(sql, `${seedHex}-%`);
    options.onState?.(canonical);
    return { digest: await sha256Hex(canonical), counts, elapsedMs };
  } catch (error) {
    if (error instanceof SimulationFailure) throw error;
    // An unexpected error is a failure too, replayable by its seed and step.
    throw new SimulationFailure(seed, currentStep, [
      `unexpected error during a ${kind} step: ${(error as Error).message}`,
    ], recent);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** The canonical final state: ids the simulator chose, amounts, statuses and simulated times, never the
 * ids the database generates (commission and contract ids) or the real time of recording. */
async function canonicalState(sql: Sql, simulated: string): Promise<string> {
  // The admin test_support makes has a random id: only the simulated users count.
  const parts = await Promise.all([
    sql`select user_id, referrer_id, vip_level, referral_code from public.users where user_id::text like ${simulated}
        order by user_id`,
    sql`select user_id, available_minor, pending_minor, in_transit_minor, owed_minor, earned_minor, commission_minor,
          withdrawn_minor, held_minor from public.user_accounts where user_id::text like ${simulated} order by user_id`,
    sql`select purchase_id, user_id, amount_minor, status, refunded_minor, disputed_minor
        from public.purchases order by purchase_id`,
    sql`select purchase_id, level, beneficiary_id, vip_level, rate_bps, amount_minor, reason, status, releases_at,
          reversed_minor, vip_reversed_minor from public.commissions order by purchase_id, level`,
    sql`select purchase_id, user_id, total_yield_minor, starts_at, ends_at, status, stopped_after_periods,
          earnings_reversed_minor from public.contracts order by purchase_id`,
    sql`select period_starts_at, contracts, users, total_minor from public.earnings_periods order by period_starts_at`,
    sql`select withdrawal_id, user_id, amount_minor, status from public.withdrawals order by withdrawal_id`,
    sql`select user_id from money.frozen_accounts order by user_id`,
    sql`select type, count(*)::int as n from event_store.events group by type order by type`,
  ]);
  return parts.map((rows) => rows.map((row) => JSON.stringify(Object.values(row))).join("\n")).join("\n--\n");
}

async function sha256Hex(text: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
