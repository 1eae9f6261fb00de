// The money invariants, in one place: the property test (tests/money_property.integration_test.ts) and
// the simulator (tests/simulation/simulate.ts) both check them. Each query answers one line per
// violation, naming what broke; an empty list means the state is sound. They read the whole money
// tables, so they run against a scratch database that holds only one run's history.
import type { Sql } from "../../supabase/functions/_shared/infra/db.ts";

/** The invariants cheap enough to check after every step. */
export async function moneyViolations(sql: Sql): Promise<string[]> {
  const rows = await sql<{ v: string }[]>`
    -- Zero-sum: every event's ledger entries sum to zero, and each balance is the sum of its entries.
    select 'ledger: ' || v as v from test_support.ledger_violations() as v
    union all
    select format('negative balance for %s', user_id) from public.user_accounts
      where available_minor < 0 or pending_minor < 0 or in_transit_minor < 0 or held_minor < 0
    union all
    -- Nothing reaches a frozen account's available balance: no release, no credit after its freeze.
    select format('frozen user %s was credited to available by %s', l.user_id, l.event_type)
    from money.frozen_accounts f
    join public.ledger_entries l on l.user_id = f.user_id and l.account = 'user:available'
      and l.event_position > f.event_position and l.amount_minor > 0
    union all
    -- Every unit a user holds or took out was earned: balances plus withdrawals equal commissions and
    -- earnings net of reversals and restorations (owed counts against them).
    select format('user %s holds %s but earned %s', user_id, held, earned) from (
      select user_id, available_minor + pending_minor + in_transit_minor + owed_minor + withdrawn_minor + held_minor as held,
             commission_minor + earned_minor as earned
      from public.user_accounts) a
    where held <> earned
    union all
    -- What a user could take out (available minus debt) never exceeds what they really earned (from
    -- the commission events, and their contracts' earnings net of refunds) minus what they withdrew.
    select format('user %s may take %s but earned %s and withdrew %s', a.user_id, a.available_minor + a.owed_minor,
                  coalesce(c.net, 0) + coalesce(e.net, 0), a.withdrawn_minor)
    from public.user_accounts a
    left join lateral (
      select sum(case ev.type when 'CommissionAccrued' then 1 when 'CommissionRestored' then 1 else -1 end
                 * (ev.data ->> 'amountMinor')::bigint) as net
      from public.commissions m
      join event_store.events ev on ev.stream_id = 'purchase-' || m.purchase_id
        and ev.type in ('CommissionAccrued', 'CommissionReversed', 'CommissionRestored')
        and ev.data ->> 'commissionId' = m.commission_id::text
      where m.beneficiary_id = a.user_id) c on true
    left join lateral (
      -- A contract's earnings stand only in the part of its purchase not refunded.
      select sum(x.accrued - floor(x.accrued::numeric * p.refunded_minor / p.amount_minor)) as net
      from public.contracts k join public.purchases p using (purchase_id)
      cross join lateral (select money.accrued_after_periods(k.total_yield_minor,
        money.contract_periods_accrued(k.starts_at, k.ends_at, k.stopped_after_periods), k.duration_days) as accrued) x
      where k.user_id = a.user_id) e on true
    where a.available_minor + a.owed_minor > coalesce(c.net, 0) + coalesce(e.net, 0) - a.withdrawn_minor
    union all
    -- Every commission is the plan's (rates read from money.commission_rates, never assumed): the n-th
    -- upline (or the platform) at the rate for the VIP level recorded when it accrued, floor(amount x rate).
    select format('commission %s (level %s of purchase %s) off plan', m.commission_id, m.level, m.purchase_id)
    from public.commissions m
    join public.purchases p using (purchase_id)
    left join public.referral_uplines r on r.user_id = p.user_id
    where m.amount_minor <> p.amount_minor * m.rate_bps / 10000
       or (m.reason = 'earned' and (m.beneficiary_id is distinct from r.ancestor_ids[m.level]
           or m.rate_bps <> (select rate_bps from money.commission_rates c where c.level = m.level and c.vip_level = m.vip_level)))
       or (m.reason <> 'earned' and (m.beneficiary_id is not null
           or m.rate_bps <> (select max(rate_bps) from money.commission_rates c where c.level = m.level)))
       or (m.reason = 'no_upline' and r.ancestor_ids[m.level] is not null)
    union all
    -- Exactly one Purchased per paid checkout, none for an unpaid one.
    select format('purchase %s (%s) has %s Purchased events', purchase_id, status, n) from (
      select p.purchase_id, p.status, (select count(*) from event_store.events e
        where e.stream_id = 'purchase-' || p.purchase_id and e.type = 'Purchased') as n
      from public.purchases p) c
    where n <> case when status in ('pending', 'failed') then 0 else 1 end
    union all
    select format('paid purchase %s has %s commissions', purchase_id, n) from (
      select p.purchase_id, (select count(*) from public.commissions m where m.purchase_id = p.purchase_id) as n
      from public.purchases p where p.status <> 'pending' and p.status <> 'failed') c
    where n <> 10
    union all
    -- Each earnings period is accrued once: one EarningsAccrued per period stream, and the periods
    -- accrued form one unbroken run of hours.
    select format('earnings stream %s has %s EarningsAccrued events', stream_id, count(*))
    from event_store.events where type = 'EarningsAccrued' group by stream_id having count(*) <> 1
    union all
    select format('%s earnings periods accrued between %s and %s', count(*), min(period_starts_at), max(period_ends_at))
    from public.earnings_periods
    having count(*) > 0 and count(*) <> extract(epoch from max(period_ends_at) - min(period_starts_at)) / 3600
    union all
    -- ... and each (contract, period) once: what the periods paid out, plus what won disputes paid for
    -- the periods their contract stood still, is what the contracts' accrued periods are worth.
    select format('periods paid %s (+ %s caught up) but the contracts accrued %s', paid, caught_up, accrued) from (
      select (select coalesce(sum(total_minor), 0) from public.earnings_periods) as paid,
             (select coalesce(sum((data ->> 'amountMinor')::bigint - (data ->> 'restoredMinor')::bigint), 0)
              from event_store.events where type = 'EarningsRestored') as caught_up,
             (select coalesce(sum(money.accrued_after_periods(k.total_yield_minor,
                money.contract_periods_accrued(k.starts_at, k.ends_at, k.stopped_after_periods), k.duration_days)), 0)
              from public.contracts k) as accrued) t
    where paid + caught_up <> accrued`;
  return rows.map((r) => r.v);
}

/** Rebuild every projection from the events, in a transaction that is rolled back, and name the
 * tables that differ from the live ones (the heavy check: run it every K steps). */
export async function rebuildViolations(sql: Sql): Promise<string[]> {
  const reserved = await sql.reserve();
  try {
    await reserved`begin`;
    const differing = await reserved<{ table_name: string }[]>`
      select table_name from projections.verify_rebuild()`;
    await reserved`rollback`;
    return differing.map((d) => `projection ${d.table_name} differs after a rebuild`);
  } finally {
    reserved.release();
  }
}
