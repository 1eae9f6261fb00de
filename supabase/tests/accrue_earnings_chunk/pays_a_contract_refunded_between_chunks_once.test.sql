begin;
select plan(8);

-- Three users with one contract each (2500 over 120 periods: 20 in the first, 21 in the second). The first chunk pays only
-- the lowest user id; then, before the next chunk, the lowest and the highest user are refunded and a new
-- buyer purchases. Each refunded contract must be paid the open period once (it counted as accrued when it
-- stopped) and nothing after; the newcomer nothing in it.
create temp table t as
select test_support.package(50000, 100, 5) as p,
       date_trunc('hour', greatest(now(), coalesce(money.earnings_watermark(), now()))) + interval '1 day' as bought_at;
create temp table u as select test_support.register() as u from generate_series(1, 3);
create temp table b as select u.u, test_support.buy(u.u, t.p, t.bought_at) as purchase_id from u, t;
create temp table period as select min(starts_at) as starts_at from public.contracts where user_id in (select u from u);
select money.accrue_due_earnings((select starts_at from period), 1000);

select is(money.accrue_earnings_chunk((select starts_at + interval '1 hour' from period), 1) ->> 'periodComplete', 'false',
  'the first chunk leaves the period open');
create temp table edge as select (select u from u order by u limit 1) as low, (select u from u order by u desc limit 1) as high;
select money.refund_purchase('pi_test_' || b.purchase_id, 50000, 'usd', 'refund', 'evt_between_' || b.purchase_id)
from b where b.u in ((select low from edge), (select high from edge));
create temp table late as select test_support.register() as u;
select test_support.buy(late.u, t.p, (select starts_at + interval '1 hour 5 minutes' from period)) from late, t;
select money.accrue_due_earnings((select starts_at + interval '2 hours' from period), 10);

select is((select array_agg(stopped_after_periods) from public.contracts
           where user_id in ((select low from edge), (select high from edge))),
  array[1, 1], 'both refunded contracts stopped after the open period');
select is_empty($$
  select u.u from u
  where (select coalesce(sum(amount_minor), 0) from public.ledger_entries l
         where l.user_id = u.u and l.event_type = 'EarningsAccrued') <>
        case when u.u in ((select low from edge), (select high from edge)) then 20 else 41 end$$,
  'the refunded users were paid the open period once and nothing after; the other user both (20 + 21)');
select is((select array_agg(earnings_reversed_minor) from public.contracts
           where user_id in ((select low from edge), (select high from edge))),
  array[20::bigint, 20::bigint], 'and exactly that was clawed back');
select is((select earned_minor from public.user_accounts where user_id = (select u from late)), 0::bigint,
  'a contract bought during the run earns nothing in the open period');
select is((select complete from public.earnings_periods where period_starts_at = (select starts_at from period)), true,
  'the next run completed the open period');
select is(ops.check_invariants(array(select position from event_store.events where transaction_id = pg_current_xact_id())),
  '[]'::jsonb, 'no money invariant breaks');
select is_empty('select * from projections.verify_rebuild()', 'rebuilding gives the same accruals');

select * from finish();
rollback;
