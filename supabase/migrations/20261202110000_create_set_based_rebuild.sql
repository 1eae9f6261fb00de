-- A set-based rebuild (issue 12). Replaying through the row-at-a-time handlers costs 16-110 µs per event,
-- and the hot types arrive interleaved (CheckoutStarted, Purchased, ten CommissionAccrued, VipLevelChanged
-- per purchase), so runs of one type are too short for per-run batch handlers to help. Instead rebuild()
-- splits the history into ranges of "set-based" events and applies each range type by type, one
-- statement per projection, and the ledger once per range:
--
--   UserRegistered, CheckoutStarted, Purchased, CommissionAccrued, CommissionReleased, VipLevelChanged.
--
-- Why applying a range type by type equals applying it in position order:
-- - Within a range these types only create rows that later types read (a user before their purchase, a
--   checkout before its payment, a commission before its release), so applying the types in that order
--   sees what position order would have seen.
-- - Everything else they change is a sum (volumes, members, balances, lifetime totals) or the last value
--   (a VIP level), which do not depend on order.
-- - Balance before/after on each ledger line does depend on order: every line of the range is gathered
--   first and the balances are a running sum per (user, kind) in (position, line) order from the
--   balance at the start of the range.
-- - A release's split between debt and available depends on the owed balance when it applies; no type
--   of the range changes owed except releases themselves, so the split is a running clamp per user from
--   the owed balance at the start of the range. Frozen accounts do not change inside a range either
--   (AccountFrozen/AccountUnfrozen are not set-based).
-- Every other event (refunds, reversals, disputes, earnings periods, withdrawals, KYC, freezes...) and
-- ranges shorter than 64 events (the setting projections.set_based_min_events) go through the live
-- dispatch (projections.apply_all) in position order.
-- The mail handlers registered for Purchased and CommissionReleased do nothing for events appended by
-- another transaction; for the rebuilding transaction's own events they are called one by one.
-- A type is set-based only while its registered handlers are exactly those this file reproduces: a new
-- handler registered later puts the type back on the live dispatch until the set-based code learns it.

create function projections.set_based_types() returns text[]
language sql stable as $$
  with expected (event_type, handlers) as (values
    ('UserRegistered', array['projections.open_user_account(event_store.events)',
                             'projections.project_referral_signup(event_store.events)',
                             'projections.project_user_registered(event_store.events)']),
    ('CheckoutStarted', array['projections.project_checkout(event_store.events)']),
    ('Purchased', array['notify.enqueue_for_event(event_store.events)',
                        'projections.project_purchased(event_store.events)']),
    ('CommissionAccrued', array['projections.project_commissions_accrued(event_store.events[])']),
    ('CommissionReleased', array['notify.gather_commission_release(event_store.events)',
                                 'projections.project_commission(event_store.events)']),
    ('VipLevelChanged', array['projections.project_vip_level(event_store.events)'])
  )
  select coalesce(array_agg(x.event_type order by x.event_type), '{}')
  from expected x
  where x.handlers = (select array_agg(h.handler::text order by h.handler::text)
                      from projections.handlers h where h.event_type = x.event_type)
$$;
comment on function projections.set_based_types() is 'Event types rebuild() applies set-based: those whose registered handlers are exactly the ones projections.apply_set_based reproduces.';

-- Apply every event with p_from <= position <= p_to, all of set-based types, as the live handlers
-- would have applied them one by one in position order (see the top of this file for why it is equal).
create function projections.apply_set_based(p_from bigint, p_to bigint) returns void
language plpgsql as $$
declare
  v_currency text := (money.settings()).currency;
begin
  if to_regclass('pg_temp.set_based_lines') is null then
    -- One row per ledger line of the range; balances are filled in by the last step.
    create temporary table set_based_lines (
      event_position bigint not null, line int not null, kind text not null, user_id uuid,
      amount_minor bigint not null, currency text not null, event_type text not null, reference_id uuid,
      recorded_at timestamptz not null
    ) on commit drop;
  else
    truncate pg_temp.set_based_lines;
  end if;

  -- UserRegistered: users, uplines (a referrer may register in the same range: a recursive walk from
  -- the users whose referrer is already projected), volumes, per-level members, the user's account.
  insert into public.users (user_id, referral_code, referrer_id, registered_at)
  select (e.data ->> 'userId')::uuid, e.data ->> 'referralCode', (e.data ->> 'referrerId')::uuid, e.recorded_at
  from event_store.events e
  where e.position between p_from and p_to and e.type = 'UserRegistered'
  order by e.position;

  if found then
    with recursive reg as materialized (
      select (e.data ->> 'userId')::uuid as user_id, (e.data ->> 'referrerId')::uuid as referrer_id
      from event_store.events e
      where e.position between p_from and p_to and e.type = 'UserRegistered'
    ), anc (user_id, ancestor_ids) as (
      select r.user_id,
             case when u.user_id is null then '{}'::uuid[] else (array[r.referrer_id] || u.ancestor_ids)[1:10] end
      from reg r left join public.referral_uplines u on u.user_id = r.referrer_id
      where r.referrer_id is null or not exists (select from reg p where p.user_id = r.referrer_id)
      union all
      select r.user_id, (array[r.referrer_id] || a.ancestor_ids)[1:10]
      from anc a join reg r on r.referrer_id = a.user_id
    )
    insert into public.referral_uplines (user_id, ancestor_ids) select user_id, ancestor_ids from anc;

    insert into public.user_volumes (user_id)
    select (e.data ->> 'userId')::uuid from event_store.events e
    where e.position between p_from and p_to and e.type = 'UserRegistered';

    update public.user_volumes v set direct_referrals = v.direct_referrals + r.n
    from (select (e.data ->> 'referrerId')::uuid as referrer_id, count(*)::int as n
          from event_store.events e
          where e.position between p_from and p_to and e.type = 'UserRegistered' and e.data ->> 'referrerId' is not null
          group by 1) r
    where v.user_id = r.referrer_id;

    -- Existing (ancestor, level) rows counted up, new ones inserted: a plain insert, not ON CONFLICT's
    -- speculative one per row (in a rebuild nearly every row is new).
    with joined as (
      select a.ancestor_id, a.level::smallint as level, count(*)::int as members
      from event_store.events e
      join public.referral_uplines u on u.user_id = (e.data ->> 'userId')::uuid
      cross join unnest(u.ancestor_ids) with ordinality as a(ancestor_id, level)
      where e.position between p_from and p_to and e.type = 'UserRegistered'
      group by 1, 2
    ), counted as (
      update public.network_levels n set members = n.members + j.members
      from joined j where n.user_id = j.ancestor_id and n.level = j.level
      returning n.user_id, n.level
    )
    insert into public.network_levels (user_id, level, members)
    select j.ancestor_id, j.level, j.members from joined j
    where not exists (select from counted c where c.user_id = j.ancestor_id and c.level = j.level);

    insert into public.user_accounts (user_id, currency)
    select (e.data ->> 'userId')::uuid, v_currency from event_store.events e
    where e.position between p_from and p_to and e.type = 'UserRegistered';
  end if;

  -- CheckoutStarted: the pending purchase.
  insert into public.purchases (purchase_id, user_id, package_id, amount_minor, currency, status, stripe_session_id, created_at)
  select (e.data ->> 'purchaseId')::uuid, (e.data ->> 'userId')::uuid, (e.data ->> 'packageId')::uuid,
         (e.data ->> 'amountMinor')::bigint, e.data ->> 'currency', 'pending', e.data ->> 'stripeSessionId', e.recorded_at
  from event_store.events e
  where e.position between p_from and p_to and e.type = 'CheckoutStarted';

  -- Purchased: the purchase paid, its contract, the buyer's and uplines' volumes, two platform lines.
  if exists (select from event_store.events e where e.position between p_from and p_to and e.type = 'Purchased') then
    update public.purchases p
    set status = 'paid', payment_intent_id = e.data ->> 'paymentIntentId', contract_id = (e.data ->> 'contractId')::uuid,
        paid_at = e.recorded_at
    from event_store.events e
    where e.position between p_from and p_to and e.type = 'Purchased' and p.purchase_id = (e.data ->> 'purchaseId')::uuid;

    insert into public.contracts (contract_id, user_id, purchase_id, package_id, principal_minor, currency, daily_rate_bps,
      duration_days, total_yield_minor, starts_at, ends_at)
    select (d ->> 'contractId')::uuid, (d ->> 'userId')::uuid, (d ->> 'purchaseId')::uuid, (d ->> 'packageId')::uuid,
           (d ->> 'amountMinor')::bigint, d ->> 'currency', (d ->> 'dailyRateBps')::int, (d ->> 'durationDays')::int,
           floor((d ->> 'amountMinor')::numeric * (d ->> 'dailyRateBps')::int * (d ->> 'durationDays')::int / 10000)::bigint,
           (d ->> 'startsAt')::timestamptz, (d ->> 'endsAt')::timestamptz
    from (select e.data as d from event_store.events e
          where e.position between p_from and p_to and e.type = 'Purchased') p;

    create temporary table set_based_volumes on commit drop as
    select (e.data ->> 'userId')::uuid as buyer_id, sum((e.data ->> 'amountMinor')::bigint) as amount_minor
    from event_store.events e
    where e.position between p_from and p_to and e.type = 'Purchased'
    group by 1;

    update public.user_volumes v set personal_volume_minor = v.personal_volume_minor + s.amount_minor
    from pg_temp.set_based_volumes s where v.user_id = s.buyer_id;

    update public.network_levels n set volume_minor = n.volume_minor + s.amount_minor
    from (select a.ancestor_id, a.level, sum(s.amount_minor) as amount_minor
          from pg_temp.set_based_volumes s
          join public.referral_uplines u on u.user_id = s.buyer_id
          cross join unnest(u.ancestor_ids) with ordinality as a(ancestor_id, level)
          group by 1, 2) s
    where n.user_id = s.ancestor_id and n.level = s.level;

    update public.user_volumes v set team_volume_minor = v.team_volume_minor + s.amount_minor
    from (select a.ancestor_id, sum(s.amount_minor) as amount_minor
          from pg_temp.set_based_volumes s
          join public.referral_uplines u on u.user_id = s.buyer_id
          cross join unnest(u.ancestor_ids) as a(ancestor_id)
          group by 1) s
    where v.user_id = s.ancestor_id;

    drop table pg_temp.set_based_volumes;

    -- Platform lines carry no balance: straight into the ledger.
    insert into public.ledger_entries (event_position, line, account, user_id, amount_minor, balance_before_minor,
      balance_after_minor, currency, event_type, reference_id, recorded_at)
    select e.position, l.line, 'platform:' || l.kind, null, l.sign * (e.data ->> 'amountMinor')::bigint, null, null,
           coalesce(e.data ->> 'currency', v_currency), e.type, (e.data ->> 'purchaseId')::uuid, e.recorded_at
    from event_store.events e
    cross join (values (1, 'stripe_clearing', -1), (2, 'revenue', 1)) as l(line, kind, sign)
    where e.position between p_from and p_to and e.type = 'Purchased' and (e.data ->> 'amountMinor')::bigint <> 0;
  end if;

  -- CommissionAccrued: the commission rows, each beneficiary's commission total, two lines each.
  if exists (select from event_store.events e where e.position between p_from and p_to and e.type = 'CommissionAccrued') then
    if exists (
      select from event_store.events e
      where e.position between p_from and p_to and e.type = 'CommissionAccrued' and e.data ->> 'beneficiaryId' is not null
        and not exists (select from public.user_accounts a where a.user_id = (e.data ->> 'beneficiaryId')::uuid)
    ) then
      raise exception 'a commission for a user without an account' using errcode = 'MO500';
    end if;

    insert into public.commissions (commission_id, purchase_id, beneficiary_id, level, vip_level, rate_bps, amount_minor,
      currency, reason, status, releases_at, accrued_at)
    select (d ->> 'commissionId')::uuid, (d ->> 'purchaseId')::uuid, (d ->> 'beneficiaryId')::uuid, (d ->> 'level')::smallint,
           (d ->> 'vipLevel')::smallint, (d ->> 'rateBps')::int, (d ->> 'amountMinor')::bigint, d ->> 'currency', d ->> 'reason',
           case when d ->> 'beneficiaryId' is null then 'platform' else 'pending' end, (d ->> 'releasesAt')::timestamptz,
           recorded_at
    from (select e.data as d, e.recorded_at from event_store.events e
          where e.position between p_from and p_to and e.type = 'CommissionAccrued') c;

    update public.user_accounts a set commission_minor = a.commission_minor + s.amount_minor
    from (select (e.data ->> 'beneficiaryId')::uuid as user_id, sum((e.data ->> 'amountMinor')::bigint) as amount_minor
          from event_store.events e
          where e.position between p_from and p_to and e.type = 'CommissionAccrued' and e.data ->> 'beneficiaryId' is not null
          group by 1) s
    where a.user_id = s.user_id;

    -- Platform lines straight into the ledger; the beneficiaries' pending lines wait for their balances.
    insert into public.ledger_entries (event_position, line, account, user_id, amount_minor, balance_before_minor,
      balance_after_minor, currency, event_type, reference_id, recorded_at)
    select e.position, l.line, l.account, null, l.sign * (e.data ->> 'amountMinor')::bigint, null, null,
           e.data ->> 'currency', e.type, (e.data ->> 'commissionId')::uuid, e.recorded_at
    from event_store.events e
    cross join lateral (values
      (1, 'platform:commission_expense', -1),
      (2, case when e.data ->> 'beneficiaryId' is null then 'platform:commission_unassigned' end, 1)
    ) as l(line, account, sign)
    where e.position between p_from and p_to and e.type = 'CommissionAccrued' and (e.data ->> 'amountMinor')::bigint <> 0
      and l.account is not null;

    insert into pg_temp.set_based_lines
    select e.position, 2, 'pending', (e.data ->> 'beneficiaryId')::uuid, (e.data ->> 'amountMinor')::bigint,
           e.data ->> 'currency', e.type, (e.data ->> 'commissionId')::uuid, e.recorded_at
    from event_store.events e
    where e.position between p_from and p_to and e.type = 'CommissionAccrued' and (e.data ->> 'amountMinor')::bigint <> 0
      and e.data ->> 'beneficiaryId' is not null;
  end if;

  -- CommissionReleased: pending to available (held while frozen), paying any debt first (projections.post_credit).
  if exists (select from event_store.events e where e.position between p_from and p_to and e.type = 'CommissionReleased') then
    create temporary table set_based_releases (
      position bigint, recorded_at timestamptz, type text, amount_minor bigint, currency text, commission_id uuid,
      beneficiary_id uuid, frozen boolean, paydown_minor bigint
    ) on commit drop;
    with released as (
      update public.commissions c set status = 'released'
      from event_store.events e
      where e.position between p_from and p_to and e.type = 'CommissionReleased'
        and c.commission_id = (e.data ->> 'commissionId')::uuid
      returning c.commission_id, c.beneficiary_id
    ), r as (
      select e.position, e.recorded_at, e.type, (e.data ->> 'amountMinor')::bigint as amount_minor,
             coalesce(e.data ->> 'currency', v_currency) as currency, x.commission_id, x.beneficiary_id,
             projections.rule_applies('debt_collection', e.position) as collects
      from event_store.events e
      join released x on x.commission_id = (e.data ->> 'commissionId')::uuid
      where e.position between p_from and p_to and e.type = 'CommissionReleased'
    ), debts as (
      -- What each collecting release owes down: the debt at the start of the range, less what the
      -- user's earlier collecting releases in the range already paid (a running clamp).
      select r.*, coalesce(-a.owed_minor, 0) as debt_minor,
             coalesce(sum(r.amount_minor) filter (where r.collects) over (partition by r.beneficiary_id order by r.position
               rows between unbounded preceding and 1 preceding), 0) as paid_before_minor,
             money.is_frozen(r.beneficiary_id) as frozen
      from r left join public.user_accounts a on a.user_id = r.beneficiary_id
    )
    insert into pg_temp.set_based_releases
    select position, recorded_at, type, amount_minor, currency, commission_id, beneficiary_id, frozen,
           case when not collects then 0
                when beneficiary_id is null then amount_minor -- as post_credit: least(amount, null)
                else least(amount_minor, greatest(0, debt_minor - paid_before_minor)) end as paydown_minor
    from debts;

    if exists (select from pg_temp.set_based_releases r
               where r.beneficiary_id is not null
                 and not exists (select from public.user_accounts a where a.user_id = r.beneficiary_id)) then
      raise exception 'a release for a user without an account' using errcode = 'MO500';
    end if;

    -- post_entries numbers the non-zero lines of [pending -a, owed +paydown, available|held a - paydown].
    insert into pg_temp.set_based_lines
    select r.position, row_number() over (partition by r.position order by l.ord)::int, l.kind, r.beneficiary_id, l.amount_minor,
           r.currency, r.type, r.commission_id, r.recorded_at
    from pg_temp.set_based_releases r
    cross join lateral (values
      (1, 'pending', -r.amount_minor),
      (2, 'owed', r.paydown_minor),
      (3, case when r.frozen then 'held' else 'available' end, r.amount_minor - r.paydown_minor)
    ) as l(ord, kind, amount_minor)
    where l.amount_minor <> 0;

    drop table pg_temp.set_based_releases;
  end if;

  -- VipLevelChanged: the last level of the range wins.
  update public.users u set vip_level = v.to_level
  from (select distinct on ((e.data ->> 'userId')::uuid) (e.data ->> 'userId')::uuid as user_id,
               (e.data ->> 'toLevel')::smallint as to_level
        from event_store.events e
        where e.position between p_from and p_to and e.type = 'VipLevelChanged'
        order by (e.data ->> 'userId')::uuid, e.position desc) v
  where u.user_id = v.user_id;

  -- The mail handlers, for events this transaction appended (they ignore every other event).
  perform notify.enqueue_for_event(e)
  from (select * from event_store.events e
        where e.position between p_from and p_to and e.type = 'Purchased'
          and e.transaction_id = pg_current_xact_id_if_assigned() order by e.position) e;
  perform notify.gather_commission_release(e)
  from (select * from event_store.events e
        where e.position between p_from and p_to and e.type = 'CommissionReleased'
          and e.transaction_id = pg_current_xact_id_if_assigned() order by e.position) e;

  -- The ledger: balances run per (user, kind) in (position, line) order from the start of the range;
  -- each account is updated once.
  with per_user as (
    select user_id,
           coalesce(sum(amount_minor) filter (where kind = 'available'), 0) as available_minor,
           coalesce(sum(amount_minor) filter (where kind = 'pending'), 0) as pending_minor,
           coalesce(sum(amount_minor) filter (where kind = 'in_transit'), 0) as in_transit_minor,
           coalesce(sum(amount_minor) filter (where kind = 'owed'), 0) as owed_minor,
           coalesce(sum(amount_minor) filter (where kind = 'held'), 0) as held_minor
    from pg_temp.set_based_lines where user_id is not null group by user_id
  ), updated as (
    update public.user_accounts a
    set available_minor = a.available_minor + p.available_minor, pending_minor = a.pending_minor + p.pending_minor,
        in_transit_minor = a.in_transit_minor + p.in_transit_minor, owed_minor = a.owed_minor + p.owed_minor,
        held_minor = a.held_minor + p.held_minor
    from per_user p where a.user_id = p.user_id
    returning a.user_id, a.available_minor - p.available_minor as available_start, a.pending_minor - p.pending_minor as pending_start,
              a.in_transit_minor - p.in_transit_minor as in_transit_start, a.owed_minor - p.owed_minor as owed_start,
              a.held_minor - p.held_minor as held_start
  ), lines as (
    select l.*,
           case l.kind when 'available' then u.available_start when 'pending' then u.pending_start
                       when 'in_transit' then u.in_transit_start when 'owed' then u.owed_start when 'held' then u.held_start end
           + sum(l.amount_minor) over (partition by l.user_id, l.kind order by l.event_position, l.line) as after_minor
    from pg_temp.set_based_lines l left join updated u on u.user_id = l.user_id
  )
  insert into public.ledger_entries (event_position, line, account, user_id, amount_minor, balance_before_minor,
    balance_after_minor, currency, event_type, reference_id, recorded_at)
  select event_position, line, case when user_id is null then 'platform:' else 'user:' end || kind, user_id, amount_minor,
         after_minor - amount_minor, after_minor, currency, event_type, reference_id, recorded_at
  from lines;
end;
$$;
comment on function projections.apply_set_based(bigint, bigint) is 'Rebuild step: apply the events in [p_from, p_to], all of projections.set_based_types(), a statement per projection instead of a handler call per event; same result as position order.';

-- Rebuild (as in 20261122030300_create_projection_dispatch.sql), now splitting each window of events into
-- ranges: runs of at least 64 set-based events go to projections.apply_set_based, everything else to
-- the live dispatch, in position order.
create or replace function projections.rebuild() returns bigint
language plpgsql as $$
declare
  v_tables text;
  v_set_based text[] := projections.set_based_types();
  -- Shorter runs cost less through the live dispatch; tests set 1 to send every run set-based.
  v_min_events int := coalesce(nullif(current_setting('projections.set_based_min_events', true), '')::int, 64);
  v_after bigint := 0;
  v_window_to bigint;
  n bigint := 0;
  r record;
  v_jit text;
  v_work_mem text;
begin
  select string_agg(table_name::text, ', ' order by table_name::text) into v_tables from projections.tables;
  if v_tables is null then return 0; end if;
  -- Writers wait while we rebuild; readers keep seeing the old rows until we commit.
  execute format('lock table %s in exclusive mode', v_tables);
  execute format('truncate %s', v_tables);
  -- JIT compiles each big statement of a range anew (≈0.1 s each, more than most of them take), and a
  -- range's aggregates (65,000 (ancestor, level) pairs for 12,000 signups) spill past the default work_mem.
  v_jit := current_setting('jit');
  v_work_mem := current_setting('work_mem');
  perform set_config('jit', 'off', true);
  perform set_config('work_mem', '64MB', true);
  loop
    v_window_to := null;
    -- A window of at most 20,000 events (bounded memory), as islands of set-based and other events.
    for r in
      with w as (
        select e.position,
               e.type = any(v_set_based) as set_based
        from event_store.events e where e.position > v_after order by e.position limit 20000
      ), islands as (
        select set_based, min(position) as from_position, max(position) as to_position, count(*) as events
        from (select w.*, row_number() over (order by position) - row_number() over (partition by set_based order by position) as island
              from w) x
        group by set_based, island
      ), ranges as (
        select from_position, to_position, events, set_based and events >= v_min_events as set_based,
               row_number() over (order by from_position)
               - row_number() over (partition by set_based and events >= v_min_events order by from_position) as island
        from islands
      )
      select set_based, min(from_position) as from_position, max(to_position) as to_position, sum(events)::bigint as events
      from ranges group by set_based, island order by 2
    loop
      if r.set_based then
        perform projections.apply_set_based(r.from_position, r.to_position);
      else
        perform projections.apply_all(array(
          select e from event_store.events e where e.position between r.from_position and r.to_position order by e.position));
      end if;
      n := n + r.events;
      v_window_to := r.to_position;
    end loop;
    exit when v_window_to is null;
    v_after := v_window_to;
  end loop;
  perform set_config('jit', v_jit, true);
  perform set_config('work_mem', v_work_mem, true);
  return n;
end;
$$;
comment on function projections.rebuild() is 'Empty every projection table and replay all events in position order (runs of set-based types a statement per projection). Returns the number of events replayed.';
