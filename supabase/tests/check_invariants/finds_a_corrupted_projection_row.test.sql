begin;
select plan(5);

-- A purchase under a two-level chain, then the events it appended (this transaction's own).
create temp table t as select test_support.chain(2) as c, test_support.package(10000, 100, 30) as p;
select test_support.set_vip((select c[1] from t), 10);
select test_support.buy((select c[2] from t), (select p from t));
create temp table mine as select array_agg(position) as positions from event_store.events
  where transaction_id = pg_current_xact_id();

select is(ops.check_invariants((select positions from mine)), '[]'::jsonb, 'an honest purchase breaks nothing');

-- A balance that no longer equals its lines.
update public.user_accounts set pending_minor = pending_minor + 1 where user_id = (select c[1] from t);
select is(jsonb_path_query_array(ops.check_invariants((select positions from mine)), '$[*].check'),
  '["balance_equals_lines"]'::jsonb, 'a balance off by one is found');
select is(ops.check_invariants((select positions from mine)) -> 0 -> 'detail' ->> 'userId', (select c[1]::text from t),
  'naming the user');
update public.user_accounts set pending_minor = pending_minor - 1 where user_id = (select c[1] from t);

-- A commission row that says another amount than its event.
update public.commissions set amount_minor = amount_minor + 5
where commission_id = (select commission_id from public.commissions where beneficiary_id = (select c[1] from t));
select is(jsonb_path_query_array(ops.check_invariants((select positions from mine)), '$[*].detail.problem'),
  '["projection differs from events"]'::jsonb, 'a commission that differs from its event is found');

-- A ledger transaction that does not sum to zero (the projection checks this on write; a hand edit does not).
update public.ledger_entries set amount_minor = amount_minor + 1
where (event_position, line) = (select event_position, line from public.ledger_entries
                                where user_id is null and event_position in (select unnest(positions) from mine) limit 1);
select ok(ops.check_invariants((select positions from mine)) @> '[{"check": "ledger_transaction_balanced"}]',
  'a ledger transaction that does not sum to zero is found');

select * from finish();
rollback;
