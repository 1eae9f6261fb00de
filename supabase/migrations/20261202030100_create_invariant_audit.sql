-- The invariant auditor: checks the money invariants on live data, incrementally. Each run takes the
-- events committed since its checkpoint (reader order: (transaction_id, position) below the snapshot
-- horizon, so nothing committed out of position order is skipped), at most p_events_max of them, and
-- checks what those events touched. The result is recorded in ops.audit_runs; a run with violations
-- keeps its alert firing until an operator acknowledges it (ops.acknowledge_audit_run).
create table ops.audit_runs (
  run_id bigint generated always as identity primary key,
  started_at timestamptz not null,
  finished_at timestamptz not null,
  from_transaction_id xid8 not null,
  from_position bigint not null,
  to_transaction_id xid8 not null,
  to_position bigint not null,
  events_checked int not null,
  violations jsonb not null default '[]'::jsonb,
  violation_count int generated always as (jsonb_array_length(violations)) stored,
  acknowledged_at timestamptz,
  acknowledged_note text,
  constraint audit_runs_violations_is_array check (jsonb_typeof(violations) = 'array')
);
comment on table ops.audit_runs is 'Every invariant audit run: the event range checked, how many events, and each violation found ({check, detail}). A run with violations fires the critical alert until acknowledged with ops.acknowledge_audit_run(run_id, note).';
create index audit_runs_unacknowledged_idx on ops.audit_runs (run_id) where violation_count > 0 and acknowledged_at is null;

-- The checks, over the events at p_positions (and what they touched). Returns one {check, detail} per
-- violation, at most 100 (one broken invariant usually breaks many rows; the first ones say enough).
create function ops.check_invariants(p_positions bigint[]) returns jsonb
language sql stable as $$
  with ev as (
    select e.* from event_store.events e where e.position = any(p_positions)
  ),
  touched_users as (
    select distinct l.user_id from public.ledger_entries l
    where l.event_position = any(p_positions) and l.user_id is not null
  ),
  purchased as (
    select (e.data ->> 'purchaseId')::uuid as purchase_id, e.stream_id, e.transaction_id,
           (e.data ->> 'amountMinor')::bigint as amount_minor, e.position
    from ev e where e.type = 'Purchased'
  ),
  violations as (
    -- Every ledger transaction (the lines of one event) sums to zero, per currency.
    select 'ledger_transaction_balanced' as check_name,
           jsonb_build_object('eventPosition', l.event_position, 'currency', l.currency, 'sumMinor', sum(l.amount_minor)) as detail
    from public.ledger_entries l where l.event_position = any(p_positions)
    group by l.event_position, l.currency having sum(l.amount_minor) <> 0
    union all
    -- Balances equal the sum of their lines (for every user these events touched).
    select 'balance_equals_lines', jsonb_build_object('userId', a.user_id, 'account', k.kind,
             'balanceMinor', k.balance, 'linesMinor', coalesce(s.total, 0))
    from touched_users t
    join public.user_accounts a on a.user_id = t.user_id
    cross join lateral (values ('available', a.available_minor), ('pending', a.pending_minor),
                               ('in_transit', a.in_transit_minor), ('owed', a.owed_minor)) k(kind, balance)
    left join lateral (select sum(l.amount_minor) as total from public.ledger_entries l
                       where l.user_id = t.user_id and l.account = 'user:' || k.kind) s on true
    where k.balance <> coalesce(s.total, 0)
    union all
    -- No negative available balance (a CHECK holds it too; this catches a dropped constraint).
    select 'available_nonnegative', jsonb_build_object('userId', a.user_id, 'availableMinor', a.available_minor)
    from touched_users t join public.user_accounts a using (user_id) where a.available_minor < 0
    union all
    -- Each period accrued at most once (so each (contract, period) at most once), and at most one
    -- earnings ledger line per user per period.
    select 'period_accrued_once', jsonb_build_object('periodStartsAt', e.data ->> 'periodStartsAt', 'count', n.count)
    from ev e
    cross join lateral (select count(*) from event_store.events o
                        where o.stream_id = e.stream_id and o.type = 'EarningsAccrued') n
    where e.type = 'EarningsAccrued' and n.count > 1
    union all
    select 'period_accrued_once', jsonb_build_object('eventPosition', l.event_position, 'userId', l.user_id, 'lines', count(*))
    from public.ledger_entries l
    where l.event_position = any(p_positions) and l.event_type = 'EarningsAccrued' and l.account = 'user:available'
    group by l.event_position, l.user_id having count(*) > 1
    union all
    -- Every paid purchase has exactly one Purchased.
    select 'one_purchased_per_purchase', jsonb_build_object('purchaseId', p.purchase_id, 'count', n.count)
    from purchased p
    cross join lateral (select count(*) from event_store.events o
                        where o.stream_id = p.stream_id and o.type = 'Purchased') n
    where n.count <> 1
    union all
    -- The commissions of each paid purchase match the plan and the uplines: levels 1-10 once each, the
    -- amount is price x rate, an earned share goes to the buyer's upline at that level, and the
    -- projection holds what the event says.
    select 'commissions_match_plan', jsonb_build_object('purchaseId', p.purchase_id, 'problem', x.problem)
    from purchased p
    cross join lateral (
      select case
        when count(*) <> 10 or count(distinct (c.data ->> 'level')) <> 10 then 'not ten levels'
        when bool_or((c.data ->> 'amountMinor')::bigint <> p.amount_minor * (c.data ->> 'rateBps')::bigint / 10000) then 'amount is not price x rate'
        when bool_or((c.data ->> 'beneficiaryId') is distinct from
                     (select (r.ancestor_ids[(c.data ->> 'level')::int])::text from public.referral_uplines r
                      join public.purchases pu on pu.user_id = r.user_id where pu.purchase_id = p.purchase_id)
                     and c.data ->> 'reason' = 'earned') then 'beneficiary is not the upline'
        when bool_or(pc.commission_id is null or pc.amount_minor <> (c.data ->> 'amountMinor')::bigint
                     or pc.beneficiary_id is distinct from (c.data ->> 'beneficiaryId')::uuid) then 'projection differs from events'
      end as problem
      from event_store.events c
      left join public.commissions pc on pc.commission_id = (c.data ->> 'commissionId')::uuid
      where c.stream_id = p.stream_id and c.type = 'CommissionAccrued' and c.transaction_id = p.transaction_id
    ) x
    where x.problem is not null
    union all
    -- No account that owes money has a withdrawal paid after the debt arose: at the payout, the user's
    -- last owed line before it must leave nothing owed.
    select 'no_payout_while_owing', jsonb_build_object('withdrawalId', e.data ->> 'withdrawalId', 'userId', w.user_id,
             'owedMinor', o.balance_after_minor)
    from ev e
    join public.withdrawals w on w.withdrawal_id = (e.data ->> 'withdrawalId')::uuid
    cross join lateral (select l.balance_after_minor from public.ledger_entries l
                        where l.user_id = w.user_id and l.account = 'user:owed' and l.event_position < e.position
                        order by l.event_position desc, l.line desc limit 1) o
    where e.type = 'WithdrawalPaid' and o.balance_after_minor < 0
  )
  select coalesce(jsonb_agg(jsonb_build_object('check', check_name, 'detail', detail)), '[]'::jsonb)
  from (select * from violations limit 100) v
$$;
comment on function ops.check_invariants(bigint[]) is 'The money invariants over the given events and what they touched: [{check, detail}], at most 100.';

-- One audit step: from the checkpoint, at most p_events_max events in reader order. pg_cron runs it
-- hourly; a backlog (the first run on a big database) is worked off p_events_max events per call.
create function ops.run_invariant_audit(p_now timestamptz default now(), p_events_max int default 200000)
returns ops.audit_runs
language plpgsql as $$
declare
  v_started timestamptz := clock_timestamp();
  v_from event_store.checkpoints;
  v_after_tx xid8;
  v_after_pos bigint;
  v_positions bigint[] := '{}';
  v_batch int;
  v_read int;
  r record;
  v_run ops.audit_runs;
begin
  -- One auditor at a time; a second concurrent run waits and then starts where the first stopped.
  perform pg_advisory_xact_lock(hashtextextended('ops:invariant-audit', 0));
  insert into event_store.checkpoints (consumer) values ('invariant-audit') on conflict (consumer) do nothing;
  select * into v_from from event_store.checkpoints where consumer = 'invariant-audit';
  v_after_tx := v_from.transaction_id;
  v_after_pos := v_from.position;
  -- read_all hands out at most 10,000 rows a call: read on until the budget or the horizon.
  loop
    v_batch := least(10000, p_events_max - cardinality(v_positions));
    exit when v_batch <= 0;
    v_read := 0;
    for r in select transaction_id, position from event_store.read_all(v_after_tx, v_after_pos, v_batch) loop
      v_positions := v_positions || r.position;
      v_after_tx := r.transaction_id;
      v_after_pos := r.position;
      v_read := v_read + 1;
    end loop;
    exit when v_read < v_batch;
  end loop;
  insert into ops.audit_runs (started_at, finished_at, from_transaction_id, from_position, to_transaction_id,
    to_position, events_checked, violations)
  values (p_now, p_now + (clock_timestamp() - v_started), v_from.transaction_id, v_from.position, v_after_tx,
    v_after_pos, cardinality(v_positions), ops.check_invariants(v_positions))
  returning * into v_run;
  perform event_store.save_checkpoint('invariant-audit', v_after_tx, v_after_pos);
  return v_run;
end;
$$;
comment on function ops.run_invariant_audit(timestamptz, int) is 'Audit the events committed since the last run (at most p_events_max), record the result in ops.audit_runs. pg_cron: hourly.';

create function ops.acknowledge_audit_run(p_run_id bigint, p_note text) returns void
language sql as $$
  update ops.audit_runs set acknowledged_at = now(), acknowledged_note = p_note
  where run_id = p_run_id and acknowledged_at is null
$$;
comment on function ops.acknowledge_audit_run(bigint, text) is 'An operator has looked at a run''s violations (and fixed or explained them): its alert may resolve.';

select private.schedule_job('invariant-audit', '7 * * * *', 'select ops.run_invariant_audit()');
