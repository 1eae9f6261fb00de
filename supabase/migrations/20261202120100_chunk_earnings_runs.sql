-- Earnings in bounded chunks (issue 12). Every money command takes the earnings lock shared
-- (money.lock_users) and the accrual takes it exclusively; accruing a whole period in one transaction made
-- every purchase, refund and withdrawal wait for the whole run (seconds at a million contracts). A period
-- is now accrued as a series of EarningsAccrued events, each for a contiguous range of user ids
-- [usersFrom, usersBefore) holding about p_chunk_contracts active contracts, each in its own short
-- transaction under the exclusive lock (money.run_earnings commits between them). A money command waits
-- for at most one chunk.
--
-- Exactly once: chunk n of a period is appended to stream earnings-<hour> (n = 0, as before) or
-- earnings-<hour>-<n> with expected version no_stream, and its range starts where the previous chunk's
-- ended (public.earnings_periods.next_user_id, read under the exclusive lock), so ranges are disjoint and
-- cover every user id; a crash between chunks leaves the period open and the next run goes on from there.
-- An event without usersFrom/usersBefore (every event before this migration, and money.accrue_due_earnings)
-- covers every user.
--
-- What a command sees between two chunks: the period counts as accrued from its first chunk on (the
-- watermark, max(period_ends_at), includes it), whichever side of the boundary the user is on. So a refund
-- or dispute between chunks stops its contract after the open period (stopped_after_periods includes it)
-- and a later chunk still pays that period to such a contract (stopped_after_periods >= k), exactly as it
-- would have been paid had the refund come after the run; a dispute won between chunks already paid the
-- open period as a missed one (the watermark includes it), so a later chunk skips that contract unless
-- the dispute itself was also opened during the period's run (then it took and gave back only what had
-- been paid). Every rule reads only events and projected state before the chunk's position, so a rebuild
-- replays the same amounts.
alter table public.earnings_periods
  add column chunks int not null default 1,
  add column next_user_id uuid,
  add column complete boolean not null default true,
  add constraint earnings_periods_open_has_next check (complete or next_user_id is not null);
comment on column public.earnings_periods.complete is 'False while a chunked run is between chunks of this period; next_user_id is where the next chunk starts.';
create index earnings_periods_open_idx on public.earnings_periods (period_starts_at) where not complete;

-- One chunk (or a whole period) of accrual, set-based (as in 20261202020000_create_account_controls.sql:
-- debt paydown first, frozen accounts' credit held), for the users in the event's range; then the active
-- contracts of that range whose term ended by the period's end become completed.
create or replace function projections.project_earnings_period(e event_store.events) returns void
language plpgsql as $$
declare
  v_starts_at timestamptz := (e.data ->> 'periodStartsAt')::timestamptz;
  v_ends_at timestamptz := (e.data ->> 'periodEndsAt')::timestamptz;
  v_from uuid := (e.data ->> 'usersFrom')::uuid;
  v_before uuid := (e.data ->> 'usersBefore')::uuid;
  v_range text;
  v_currency text := (money.settings()).currency;
  v_open_position bigint;
  v_resumed uuid[] := '{}';
  v_contracts int;
  v_users int;
  v_total bigint;
begin
  if to_regclass('pg_temp.period_credits_v4') is null then
    create temporary table period_credits_v4 (
      user_id uuid primary key, contracts int, amount_minor bigint, paydown_minor bigint not null default 0,
      held boolean not null default false
    ) on commit drop;
  else
    truncate pg_temp.period_credits_v4;
  end if;

  -- Dynamic SQL: each chunk gets a plan for its own bounds (a cached generic plan would not use the index).
  v_range := case when v_from is null then '' else format(' and c.user_id >= %L::uuid', v_from) end
          || case when v_before is null then '' else format(' and c.user_id < %L::uuid', v_before) end;

  if v_from is not null then
    select p.event_position into v_open_position from public.earnings_periods p where p.period_starts_at = v_starts_at;
    -- Disputes won since the period opened (and not opened since): their restore paid the open period.
    select coalesce(array_agg((w.data ->> 'purchaseId')::uuid), '{}') into v_resumed
    from event_store.events w
    where w.position > v_open_position and w.position < e.position and w.type = 'DisputeWon'
      and not exists (select from event_store.events d
                      where d.stream_id = w.stream_id and d.type = 'PurchaseDisputed'
                        and d.position > v_open_position and d.position < w.position);
  end if;

  execute format($q$
    insert into pg_temp.period_credits_v4 (user_id, contracts, amount_minor)
    select c.user_id, count(*),
           sum(money.accrued_after_periods(c.total_yield_minor, c.k, c.duration_days)
               - money.accrued_after_periods(c.total_yield_minor, c.k - 1, c.duration_days))
    from (
      select c.user_id, c.total_yield_minor, c.duration_days, (extract(epoch from ($2 - c.starts_at)) / 3600)::int as k
      from public.contracts c
      where c.status = 'active' and c.starts_at <= $1 and c.ends_at >= $2 %1$s and c.purchase_id <> all($3)
      union all
      select c.user_id, c.total_yield_minor, c.duration_days, (extract(epoch from ($2 - c.starts_at)) / 3600)::int
      from public.contracts c
      where c.status in ('refunded', 'disputed') and c.starts_at <= $1 and c.ends_at >= $2 %1$s
        and c.stopped_after_periods >= (extract(epoch from ($2 - c.starts_at)) / 3600)::int
    ) c
    group by c.user_id$q$, v_range)
  using v_starts_at, v_ends_at, v_resumed;

  update pg_temp.period_credits_v4 p set paydown_minor = least(p.amount_minor, -a.owed_minor)
  from public.user_accounts a
  where a.owed_minor < 0 and a.user_id = p.user_id and p.amount_minor > 0
    and projections.rule_applies('debt_collection', e.position);

  if exists (select from money.frozen_accounts) then
    update pg_temp.period_credits_v4 p set held = true from money.frozen_accounts f where f.user_id = p.user_id;
  end if;

  select coalesce(sum(contracts), 0), count(*) filter (where amount_minor > 0), coalesce(sum(amount_minor), 0)
  into v_contracts, v_users, v_total
  from pg_temp.period_credits_v4;

  with credited as (
    update public.user_accounts a
    set available_minor = a.available_minor + case when p.held then 0 else p.amount_minor - p.paydown_minor end,
        held_minor = a.held_minor + case when p.held then p.amount_minor - p.paydown_minor else 0 end,
        owed_minor = a.owed_minor + p.paydown_minor,
        earned_minor = a.earned_minor + p.amount_minor
    from pg_temp.period_credits_v4 p
    where a.user_id = p.user_id and p.amount_minor > 0
    returning a.user_id, a.available_minor, a.held_minor, a.owed_minor, p.amount_minor, p.paydown_minor, p.held
  ), lines as (
    select user_id, 'user:owed' as account, paydown_minor as amount_minor, owed_minor as after_minor, 1 as kind_order
    from credited where paydown_minor > 0
    union all
    select user_id, case when held then 'user:held' else 'user:available' end, amount_minor - paydown_minor,
           case when held then held_minor else available_minor end, 2
    from credited where amount_minor > paydown_minor
  )
  insert into public.ledger_entries (event_position, line, account, user_id, amount_minor, balance_before_minor,
    balance_after_minor, currency, event_type, reference_id, recorded_at)
  select e.position, 1 + row_number() over (order by user_id, kind_order), account, user_id, amount_minor,
         after_minor - amount_minor, after_minor, v_currency, e.type, null, e.recorded_at
  from lines;

  if v_total > 0 then
    insert into public.ledger_entries (event_position, line, account, user_id, amount_minor, balance_before_minor,
      balance_after_minor, currency, event_type, reference_id, recorded_at)
    values (e.position, 1, 'platform:earnings_expense', null, -v_total, null, null, v_currency, e.type, null, e.recorded_at);
  end if;

  -- Completion: these contracts can earn no period after this one (a period needs ends_at >= its end).
  execute format($q$
    update public.contracts c set status = 'completed'
    where c.status = 'active' and c.ends_at <= $1 %s$q$, v_range)
  using v_ends_at;

  if v_from is null then
    insert into public.earnings_periods (period_starts_at, period_ends_at, event_position, contracts, users, total_minor,
      chunks, next_user_id, complete)
    values (v_starts_at, v_ends_at, e.position, v_contracts, v_users, v_total, 1, v_before, v_before is null);
  else
    update public.earnings_periods
    set contracts = contracts + v_contracts, users = users + v_users, total_minor = total_minor + v_total,
        chunks = chunks + 1, next_user_id = v_before, complete = v_before is null
    where period_starts_at = v_starts_at;
  end if;
end;
$$;

-- Appends the next chunk of earnings under the exclusive earnings lock: the rest of the open period if a
-- run stopped between chunks, else the next due period. p_chunk_contracts null: the whole rest of the
-- period in one event. Returns {done} when nothing is due, else {periodStartsAt, chunk, periodComplete}.
create function money.accrue_earnings_chunk(p_now timestamptz, p_chunk_contracts int default 10000) returns jsonb
language plpgsql as $$
declare
  v_open public.earnings_periods;
  v_period timestamptz;
  v_from uuid;
  v_chunk int := 0;
  v_first uuid;
  v_before uuid;
  v_data jsonb;
begin
  perform pg_advisory_xact_lock(hashtextextended('accrue:earnings', 0));
  select * into v_open from public.earnings_periods where not complete order by period_starts_at limit 1;
  if found then
    v_period := v_open.period_starts_at;
    v_from := v_open.next_user_id;
    v_chunk := v_open.chunks;
  else
    v_period := coalesce(money.earnings_watermark(), (select date_trunc('hour', min(starts_at)) from public.contracts));
    if v_period is null or v_period + interval '1 hour' > p_now then
      return jsonb_build_object('done', true);
    end if;
  end if;

  if p_chunk_contracts is not null then
    -- The chunk ends before the user holding the (p_chunk_contracts+1)-th due active contract from v_from
    -- on, and always after the first such user (one user with many contracts is one chunk).
    select c.user_id into v_first from public.contracts c
    where c.status = 'active' and c.user_id >= coalesce(v_from, '00000000-0000-0000-0000-000000000000'::uuid)
      and c.starts_at <= v_period and c.ends_at >= v_period + interval '1 hour'
    order by c.user_id limit 1;
    if v_first is not null then
      select c.user_id into v_before from public.contracts c
      where c.status = 'active' and c.user_id > v_first
        and c.starts_at <= v_period and c.ends_at >= v_period + interval '1 hour'
      order by c.user_id offset greatest(p_chunk_contracts, 1) - 1 limit 1;
    end if;
  end if;

  v_data := jsonb_build_object('periodStartsAt', money.rfc3339(v_period),
                               'periodEndsAt', money.rfc3339(v_period + interval '1 hour'));
  if v_from is not null then v_data := v_data || jsonb_build_object('usersFrom', v_from); end if;
  if v_before is not null then v_data := v_data || jsonb_build_object('usersBefore', v_before); end if;
  perform event_store.append_events(
    'earnings-' || to_char(v_period at time zone 'UTC', 'YYYY-MM-DD"T"HH24') || case when v_chunk > 0 then '-' || v_chunk else '' end,
    'no_stream', jsonb_build_array(jsonb_build_object('type', 'EarningsAccrued', 'data', v_data)),
    jsonb_build_object('job', 'accrue_earnings'));
  return jsonb_build_object('done', false, 'periodStartsAt', money.rfc3339(v_period), 'chunk', v_chunk,
                            'periodComplete', v_before is null);
end;
$$;
comment on function money.accrue_earnings_chunk(timestamptz, int) is 'Appends the next EarningsAccrued chunk (about p_chunk_contracts active contracts of a range of users) of the open or next due period, under the exclusive earnings lock.';

-- Every due period in this one transaction (tests, backfills): as before, but it first completes a period
-- a chunked run left open. Returns {periods, contracts, totalMinor, firstPeriod, lastPeriod}.
create or replace function money.accrue_due_earnings(p_now timestamptz default now(), p_periods_max int default 168)
returns jsonb
language plpgsql as $$
declare
  v_step jsonb;
  v_first timestamptz;
  v_last timestamptz;
  v_periods int := 0;
begin
  while v_periods < least(p_periods_max, 10000) loop
    v_step := money.accrue_earnings_chunk(p_now, null);
    exit when (v_step ->> 'done')::boolean;
    v_first := coalesce(v_first, (v_step ->> 'periodStartsAt')::timestamptz);
    v_last := (v_step ->> 'periodStartsAt')::timestamptz;
    v_periods := v_periods + 1;
  end loop;
  return (
    select jsonb_build_object('periods', v_periods, 'contracts', coalesce(sum(contracts), 0),
      'totalMinor', coalesce(sum(total_minor), 0),
      'firstPeriod', money.rfc3339(v_first), 'lastPeriod', money.rfc3339(v_last))
    from public.earnings_periods where period_starts_at between v_first and v_last
  );
end;
$$;

-- The hourly job: chunk after chunk, committing after each, so the exclusive lock is held for one chunk at
-- a time. Bounded: at most p_chunks_max chunks per call (the next call goes on). Records the run in
-- money.earnings_runs (a failed chunk rolls back alone and is recorded; earlier chunks stay committed).
create procedure money.run_earnings(p_now timestamptz default null, p_chunk_contracts int default 10000,
  p_chunks_max int default 100000)
language plpgsql as $$
declare
  v_now timestamptz := coalesce(p_now, now());
  v_started timestamptz := clock_timestamp();
  v_step jsonb;
  v_chunks int := 0;
  v_periods int := 0;
  v_first timestamptz;
  v_last timestamptz;
  v_error text;
begin
  while v_chunks < p_chunks_max loop
    begin
      v_step := money.accrue_earnings_chunk(v_now, p_chunk_contracts);
    exception when others then
      v_error := sqlerrm;
    end;
    exit when v_error is not null or (v_step ->> 'done')::boolean;
    v_chunks := v_chunks + 1;
    v_first := coalesce(v_first, (v_step ->> 'periodStartsAt')::timestamptz);
    if (v_step ->> 'periodComplete')::boolean then
      v_periods := v_periods + 1;
      v_last := (v_step ->> 'periodStartsAt')::timestamptz;
    end if;
    commit;
  end loop;
  if v_error is not null or v_chunks > 0 then
    insert into money.earnings_runs (started_at, duration_ms, periods, first_period, last_period, contracts, total_minor,
      status, error)
    values (v_started, (extract(epoch from clock_timestamp() - v_started) * 1000)::int, v_periods, v_first, v_last,
      coalesce((select sum(p.contracts) from public.earnings_periods p where p.period_starts_at between v_first and v_last), 0),
      coalesce((select sum(p.total_minor) from public.earnings_periods p where p.period_starts_at between v_first and v_last), 0),
      case when v_error is null then 'succeeded' else 'failed' end, v_error);
  end if;
end;
$$;
comment on procedure money.run_earnings(timestamptz, int, int) is 'The earnings job: accrues every due period in chunks of about p_chunk_contracts contracts, committing after each chunk.';

select private.schedule_job('accrue-earnings', '* * * * *', 'call money.run_earnings()');
