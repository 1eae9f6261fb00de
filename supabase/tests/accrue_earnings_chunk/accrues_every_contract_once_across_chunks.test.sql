begin;
select plan(7);

-- Six users, 1 to 3 contracts each, bought in the same hour; the period is accrued in chunks of about a fifth
-- of its due contracts (the database may hold other tests' committed contracts in the same period).
-- 50,000 x 100 bps x 5 days / 10000 = 2500 over 120 periods: floor(2500 x 1 / 120) = 20 in the first.
create temp table t as
select test_support.package(50000, 100, 5) as p,
       date_trunc('hour', greatest(now(), coalesce(money.earnings_watermark(), now()))) + interval '1 day' as bought_at;
create temp table u as select test_support.register() as u, n from generate_series(1, 6) n;
select test_support.buy(u.u, t.p, t.bought_at) from u, t, generate_series(1, 3) m where m <= 1 + u.n % 3;
create temp table period as select min(starts_at) as starts_at from public.contracts where user_id in (select u from u);
-- Every period before this one, in one go (other tests' periods do not matter here).
select money.accrue_due_earnings((select starts_at from period), 1000);

create temp table due as
select count(*)::int as contracts from public.contracts
where status = 'active' and starts_at <= (select starts_at from period)
  and ends_at >= (select starts_at + interval '1 hour' from period);

create temp table steps as select 0 as i, null::jsonb as r;
do $$
declare
  v_step jsonb;
begin
  for n in 1..100 loop
    v_step := money.accrue_earnings_chunk((select starts_at + interval '1 hour' from period),
                                          greatest(2, (select contracts from due) / 5));
    insert into steps values (n, v_step);
    exit when (v_step ->> 'periodComplete')::boolean;
  end loop;
end $$;

select cmp_ok((select count(*) from steps where r is not null), '>=', 3::bigint, 'the period took several chunks');
select ok((select complete and chunks = (select count(*) from steps where r is not null)
           from public.earnings_periods where period_starts_at = (select starts_at from period)),
  'the period is complete after its last chunk, and counts its chunks');
select is((select contracts from public.earnings_periods where period_starts_at = (select starts_at from period)),
  (select contracts from due), 'every due contract counted once');
select is_empty($$
  select u.u from u
  where (select earned_minor from public.user_accounts a where a.user_id = u.u)
        <> 20 * (select count(*) from public.contracts c where c.user_id = u.u)$$,
  'each user earned the first period of each contract exactly once');
select is_empty($$
  select l.user_id from public.ledger_entries l join event_store.events e on e.position = l.event_position
  where e.stream_id like 'earnings-' || to_char((select starts_at from period) at time zone 'UTC', 'YYYY-MM-DD"T"HH24') || '%'
    and l.user_id is not null
  group by l.user_id having count(*) <> 1$$,
  'one earnings line per user in the period, whichever chunk paid it');
select is((select count(distinct stream_id) from event_store.events where type = 'EarningsAccrued'),
  (select count(*) from event_store.events where type = 'EarningsAccrued'), 'one event per chunk stream');
select is_empty('select * from projections.verify_rebuild()', 'rebuilding gives the same accruals');

select * from finish();
rollback;
