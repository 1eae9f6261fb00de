begin;
select plan(3);

create temp table t as
select test_support.register() as u, test_support.package(100000, 100, 10) as p,
       date_trunc('hour', greatest(now(), coalesce(money.earnings_watermark(), now()))) + interval '1 day 10 minutes' as bought_at;
create temp table b as select test_support.buy(u, p, bought_at) as purchase_id from t;
create temp table c as select * from public.contracts where user_id = (select u from t);

select money.accrue_due_earnings((select starts_at + interval '3 hours' from c));
select money.refund_purchase('pi_test_' || (select purchase_id from b), 100000, 'usd', 'refund', 'evt_stop');
select money.accrue_due_earnings((select starts_at + interval '6 hours' from c));
-- 10,000 of yield over 240 periods: floor(10000 x 3 / 240) = 125 after three (then clawed back by the refund).
select is((select sum(amount_minor) from public.ledger_entries
           where user_id = (select u from t) and event_type = 'EarningsAccrued'),
  125::numeric, 'no period accrues after the refund');
select is((select stopped_after_periods from public.contracts where user_id = (select u from t)), 3,
  'the contract records how many periods it ran');
select is_empty('select * from projections.verify_rebuild()', 'rebuilding gives the same accruals');

select * from finish();
rollback;
