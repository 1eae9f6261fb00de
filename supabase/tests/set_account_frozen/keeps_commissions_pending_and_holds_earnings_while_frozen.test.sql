begin;
select plan(9);

-- A buys a 100,000 contract (10,000 over 10 days: 1,000 a day) and earns 8,000 on B's purchase; then A
-- is frozen before either pays out.
create temp table t as
select test_support.chain(2) as c, test_support.package(100000, 100, 10) as p,
       date_trunc('hour', greatest(now(), coalesce(money.earnings_watermark(), now()))) + interval '1 day 10 minutes' as bought_at;
select test_support.buy(c[1], p, bought_at) from t;
select test_support.buy(c[2], p, bought_at) from t;
select test_support.freeze((select c[1] from t));

select money.release_due_commissions(now() + interval '1 year', 50000);
select is((select status from public.commissions where beneficiary_id = (select c[1] from t)), 'pending',
  'a frozen beneficiary''s commission stays pending past its hold');
select money.accrue_due_earnings((select starts_at + interval '24 hours' from public.contracts where user_id = (select c[1] from t)), 1000);
select is((select available_minor || '/' || held_minor || '/' || pending_minor || '/' || earned_minor
           from public.user_accounts where user_id = (select c[1] from t)), '0/1000/8000/1000',
  'a day of earnings accrues (earned) but is held, not available');
select is((select string_agg(distinct account, ',') from public.ledger_entries
           where user_id = (select c[1] from t) and event_type = 'EarningsAccrued'), 'user:held',
  'the earnings lines credit user:held');

select is((test_support.unfreeze((select c[1] from t)) ->> 'frozen')::boolean, false, 'unfrozen');
select is((select available_minor || '/' || held_minor from public.user_accounts where user_id = (select c[1] from t)),
  '1000/0', 'the held earnings move to available');
select is((select (data ->> 'releasedMinor')::int from event_store.events
           where stream_id = 'user-' || (select c[1] from t) and type = 'AccountUnfrozen'), 1000,
  'AccountUnfrozen says how much it released');
select money.release_due_commissions(now() + interval '1 year', 50000);
select is((select available_minor || '/' || pending_minor from public.user_accounts where user_id = (select c[1] from t)),
  '9000/0', 'and the next release run releases the commission');
select is_empty('select * from test_support.ledger_violations()', 'the ledger balances');
select is_empty('select * from projections.verify_rebuild()', 'rebuilding gives the same rows');

select * from finish();
rollback;
