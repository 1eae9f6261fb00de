-- Earnings, exactly once per hour period (DESIGN.md §4). Periods accrued so far (public.earnings_periods,
-- projected from EarningsAccrued): every hour period from the first contract's start up to this end has been accrued.
create table public.earnings_periods (
  period_starts_at timestamptz primary key,
  period_ends_at timestamptz not null,
  event_position bigint not null,
  contracts int not null,
  users int not null,
  total_minor bigint not null,
  constraint earnings_periods_one_hour check (period_ends_at = period_starts_at + interval '1 hour')
);
comment on table public.earnings_periods is 'One row per accrued hour period (projection of EarningsAccrued): how many contracts and users earned, and the total.';
select projections.register_table('public.earnings_periods');

create function money.earnings_watermark() returns timestamptz
language sql stable as $$ select max(period_ends_at) from public.earnings_periods $$;

-- How many of a contract's hour periods have been accrued: those that ended by the watermark.
create function money.contract_periods_accrued(p_starts_at timestamptz, p_ends_at timestamptz, p_stopped_after_periods int)
returns int
language sql stable as $$
  select coalesce(p_stopped_after_periods, greatest(0, floor(extract(epoch from
    (least(coalesce(money.earnings_watermark(), p_starts_at), p_ends_at) - p_starts_at)) / 3600)::int))
$$;

-- floor(T x k / N): exact at k = N, so a contract that runs to its end has accrued exactly its total.
create function money.accrued_after_periods(p_total_minor bigint, p_periods int, p_duration_days int) returns bigint
language sql immutable as $$
  -- bigint when T x N cannot overflow (every realistic contract), numeric for the largest terms.
  select case when p_total_minor <= 9223372036854775807 / (p_duration_days * 24)
              then p_total_minor * p_periods / (p_duration_days * 24)
              else floor(p_total_minor::numeric * p_periods / (p_duration_days * 24))::bigint end
$$;

-- One period's accrual, set-based: for every active contract covering the whole period, its k-th
-- period pays floor(T k / N) - floor(T (k-1) / N); the ledger takes one entry per user (the sum of
-- their contracts), so writes scale with users, not contracts.
create function projections.project_earnings_period(e event_store.events) returns void
language plpgsql as $$
declare
  v_starts_at timestamptz := (e.data ->> 'periodStartsAt')::timestamptz;
  v_ends_at timestamptz := (e.data ->> 'periodEndsAt')::timestamptz;
  v_currency text := (money.settings()).currency;
  v_contracts int;
  v_users int;
  v_total bigint;
begin
  if to_regclass('pg_temp.period_credits') is null then
    create temporary table period_credits (user_id uuid primary key, contracts int, amount_minor bigint) on commit drop;
  else
    truncate pg_temp.period_credits;
  end if;
  insert into pg_temp.period_credits (user_id, contracts, amount_minor)
  select c.user_id, count(*),
         sum(money.accrued_after_periods(c.total_yield_minor, c.k, c.duration_days)
             - money.accrued_after_periods(c.total_yield_minor, c.k - 1, c.duration_days))
  from (
    select user_id, total_yield_minor, duration_days,
           (extract(epoch from (v_ends_at - starts_at)) / 3600)::int as k
    from public.contracts
    where status = 'active' and starts_at <= v_starts_at and ends_at >= v_ends_at
  ) c
  group by c.user_id;

  select coalesce(sum(contracts), 0), count(*) filter (where amount_minor > 0), coalesce(sum(amount_minor), 0)
  into v_contracts, v_users, v_total
  from pg_temp.period_credits;

  with credited as (
    update public.user_accounts a
    set available_minor = a.available_minor + p.amount_minor, earned_minor = a.earned_minor + p.amount_minor
    from pg_temp.period_credits p
    where a.user_id = p.user_id and p.amount_minor > 0
    returning a.user_id, a.available_minor, p.amount_minor
  )
  insert into public.ledger_entries (event_position, line, account, user_id, amount_minor, balance_before_minor,
    balance_after_minor, currency, event_type, reference_id, recorded_at)
  select e.position, 1 + row_number() over (order by user_id), 'user:available', user_id, amount_minor,
         available_minor - amount_minor, available_minor, v_currency, e.type, null, e.recorded_at
  from credited;

  if v_total > 0 then
    insert into public.ledger_entries (event_position, line, account, user_id, amount_minor, balance_before_minor,
      balance_after_minor, currency, event_type, reference_id, recorded_at)
    values (e.position, 1, 'platform:earnings_expense', null, -v_total, null, null, v_currency, e.type, null, e.recorded_at);
  end if;

  insert into public.earnings_periods (period_starts_at, period_ends_at, event_position, contracts, users, total_minor)
  values (v_starts_at, v_ends_at, e.position, v_contracts, v_users, v_total);
end;
$$;
insert into projections.handlers (event_type, handler, priority)
values ('EarningsAccrued', 'projections.project_earnings_period(event_store.events)'::regprocedure, 10);

-- Accrue every period that is due (ended by p_now) and not yet accrued, oldest first, at most
-- p_periods_max per call. Each period is one EarningsAccrued on a stream named after it, appended with
-- expected version no_stream: a second run, concurrent or later, cannot accrue it again. The exclusive
-- earnings lock waits for money commands in flight and holds new ones until this commits (see
-- money.lock_users), so every contract that exists when a period is accrued is seen by it, and a
-- rebuild replays the same state. Returns {periods, contracts, totalMinor, firstPeriod, lastPeriod}.
create function money.accrue_due_earnings(p_now timestamptz default now(), p_periods_max int default 168)
returns jsonb
language plpgsql as $$
declare
  v_next timestamptz;
  v_first timestamptz;
  v_periods int := 0;
begin
  perform pg_advisory_xact_lock(hashtextextended('accrue:earnings', 0));
  v_next := coalesce(money.earnings_watermark(),
                     (select date_trunc('hour', min(starts_at)) from public.contracts));
  v_first := v_next;
  while v_next is not null and v_next + interval '1 hour' <= p_now and v_periods < least(p_periods_max, 10000) loop
    perform event_store.append_events(
      'earnings-' || to_char(v_next at time zone 'UTC', 'YYYY-MM-DD"T"HH24'), 'no_stream',
      jsonb_build_array(jsonb_build_object('type', 'EarningsAccrued', 'data', jsonb_build_object(
        'periodStartsAt', money.rfc3339(v_next), 'periodEndsAt', money.rfc3339(v_next + interval '1 hour')))),
      jsonb_build_object('job', 'accrue_earnings'));
    v_next := v_next + interval '1 hour';
    v_periods := v_periods + 1;
  end loop;
  return (
    select jsonb_build_object('periods', v_periods, 'contracts', coalesce(sum(contracts), 0),
      'totalMinor', coalesce(sum(total_minor), 0),
      'firstPeriod', case when v_periods > 0 then money.rfc3339(v_first) end,
      'lastPeriod', case when v_periods > 0 then money.rfc3339(v_next - interval '1 hour') end)
    from public.earnings_periods where period_starts_at >= v_first and period_starts_at < v_next
  );
end;
$$;
comment on function money.accrue_due_earnings(timestamptz, int) is 'Accrue every due hour period not yet accrued, in order. Safe to run concurrently and repeatedly; a crash rolls back and the next run redoes it.';

-- Run history for admins and analysts. A run that fails records its error; a run whose backend is
-- killed leaves no row (its transaction, and so its periods, rolled back) and the next run does them.
create table money.earnings_runs (
  run_id bigint generated always as identity primary key,
  started_at timestamptz not null,
  duration_ms int not null,
  periods int not null,
  first_period timestamptz,
  last_period timestamptz,
  contracts bigint not null default 0,
  total_minor bigint not null default 0,
  status text not null,
  error text,
  constraint earnings_runs_status_check check (status in ('succeeded', 'failed'))
);
comment on table money.earnings_runs is 'Every earnings job run: periods accrued, contracts, total, duration, status and error.';

create function money.run_earnings_job(p_now timestamptz default now()) returns jsonb
language plpgsql as $$
declare
  v_started timestamptz := clock_timestamp();
  v_result jsonb;
begin
  begin
    v_result := money.accrue_due_earnings(p_now);
  exception when others then
    insert into money.earnings_runs (started_at, duration_ms, periods, status, error)
    values (v_started, (extract(epoch from clock_timestamp() - v_started) * 1000)::int, 0, 'failed', sqlerrm);
    return jsonb_build_object('status', 'failed', 'error', sqlerrm);
  end;
  if (v_result ->> 'periods')::int > 0 then
    insert into money.earnings_runs (started_at, duration_ms, periods, first_period, last_period, contracts, total_minor, status)
    values (v_started, (extract(epoch from clock_timestamp() - v_started) * 1000)::int, (v_result ->> 'periods')::int,
      (v_result ->> 'firstPeriod')::timestamptz, (v_result ->> 'lastPeriod')::timestamptz,
      (v_result ->> 'contracts')::bigint, (v_result ->> 'totalMinor')::bigint, 'succeeded');
  end if;
  return v_result || jsonb_build_object('status', 'succeeded');
end;
$$;

select private.schedule_job('accrue-earnings', '* * * * *', 'select money.run_earnings_job()');
