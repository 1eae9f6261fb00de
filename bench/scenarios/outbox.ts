// outbox: 100,000 queued mails drained by 4 concurrent drainers (notify.claim_mails with SKIP LOCKED,
// the resend SDK, one results statement per batch) into the local Resend-compatible endpoint, in its own
// process, over a scratch database. Baseline: the endpoint's own ceiling, measured in the same run by the
// same SDK with the same concurrency and no database (what the drain could reach at best). Checks: every
// mail accepted exactly once at the endpoint (no duplicate, no loss) and >= 1,000 mails/s.
import { createSql } from "../../supabase/functions/_shared/infra/db.ts";
import {
  type DrainConfig,
  drainDefaults,
  drainOutbox,
} from "../../supabase/functions/_shared/infra/mail_outbox.ts";
import { createResendMailer } from "../../supabase/functions/_shared/infra/mailer.ts";
import { benchPort, type BenchResult, closedLoop, result, round, scratchDatabase } from "../lib.ts";

const MAILS = Number(Deno.env.get("OUTBOX_MAILS") ?? 100_000);
const DRAINERS = 4;
const PORT = benchPort(7);
const CONCURRENCY = 20;
const CEILING_SECONDS = 5;

async function startEndpoint(): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../devstack/local_mail.ts", import.meta.url).pathname],
    env: { MAIL_PORT: String(PORT), LOCAL_MAIL_KEEP: "1000" },
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  for (let i = 0; i < 100; i++) {
    try {
      await (await fetch(`http://127.0.0.1:${PORT}/api/stats`)).body?.cancel();
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error("the local mail endpoint did not start");
}

export async function run(): Promise<BenchResult> {
  const endpointUrl = `http://127.0.0.1:${PORT}`;
  const endpoint = await startEndpoint();
  const scratch = await scratchDatabase();
  const sql = createSql(scratch.url, 2);
  const mailer = createResendMailer({
    apiKey: "re_bench",
    from: "Accrue <no-reply@mail.accrue.test>",
    baseUrl: endpointUrl,
  });
  try {
    // The endpoint's ceiling: the same SDK, DRAINERS × CONCURRENCY requests in flight, no database.
    const ceiling = await closedLoop(DRAINERS * CONCURRENCY, CEILING_SECONDS, async (worker, i) => {
      const outcome = await mailer.send(
        { to: "ceiling@example.test", subject: "Ceiling", text: "ceiling", html: "<p>ceiling</p>" },
        `ceiling-${worker}-${i}`,
      );
      if (!outcome.ok) throw new Error(outcome.error);
    });
    await (await fetch(`${endpointUrl}/api/messages`, { method: "DELETE" })).body?.cancel();

    // 100,000 receipts-sized mails to 1,000 users.
    await sql`
      insert into private.profiles (user_id, email)
      select gen_random_uuid(), 'bench-' || i || '@example.test' from generate_series(1, 1000) i`;
    await sql`
      insert into notify.outbox (dedupe_key, kind, user_id, variables)
      select 'bench:' || i, 'purchase_receipt', p.user_id,
        jsonb_build_object('packageName', 'Starter', 'amount', '100.00 USD', 'purchaseId', gen_random_uuid(),
          'startsAt', '2026-12-01 10:00 UTC', 'endsAt', '2026-12-31 10:00 UTC')
      from generate_series(1, ${MAILS}::int) i
      join (select user_id, row_number() over () - 1 as n from private.profiles) p on p.n = i % 1000`;
    await sql`vacuum analyze notify.outbox`.simple();

    const config: DrainConfig = {
      ...drainDefaults,
      appUrl: "https://app.example.test",
      unsubscribeUrl: "https://api.example.test/functions/v1/email/unsubscribe",
      linkSecret: "bench",
      concurrency: CONCURRENCY,
      timeBudgetMs: 3_600_000,
    };
    const drainers = Array.from({ length: DRAINERS }, () => createSql(scratch.url, 2));
    const started = performance.now();
    const drained = await Promise.all(drainers.map((s) => drainOutbox(s, mailer, config)));
    const seconds = (performance.now() - started) / 1000;
    await Promise.all(drainers.map((s) => s.end()));

    const stats = await (await fetch(`${endpointUrl}/api/stats`)).json() as {
      accepted: number;
      replayed: number;
      duplicates: number;
      distinctKeys: number;
      rejected: number;
    };
    const [db] = await sql<{ sent: number; other: number }[]>`
      select count(*) filter (where status = 'sent')::int as sent, count(*) filter (where status <> 'sent')::int as other
      from notify.outbox`;
    const rate = MAILS / seconds;
    const exact = stats.accepted === MAILS && stats.distinctKeys === MAILS && stats.duplicates === 0 &&
      stats.replayed === 0 && db!.sent === MAILS && db!.other === 0;
    return result({
      scenario: "outbox",
      metric: "mails_per_second",
      value: round(rate),
      unit: "mails/s",
      baseline: `the local endpoint's ceiling (same SDK, ${DRAINERS * CONCURRENCY} in flight, no database)`,
      baseline_value: round(ceiling.opsPerSecond),
      target: { ratio: 0.5, meaning: ">=" },
      extraChecks: exact && rate >= 1000,
      notes: `${MAILS} mails by ${DRAINERS} drainers (${drained.map((d) => d.sent).join(" + ")}) in ${
        round(seconds, 2)
      } s; endpoint: ${stats.accepted} accepted, ${stats.distinctKeys} distinct keys, ${stats.duplicates} duplicates, ${stats.replayed} replays, ${stats.rejected} rejected; outbox: ${
        db!.sent
      } sent, ${db!.other} other`,
    });
  } finally {
    await sql.end();
    await scratch.drop();
    endpoint.kill();
    await endpoint.status;
  }
}
