begin;
select plan(4);

-- The last line of defence under every money command: a balance that would go below zero is refused by
-- the table itself, whatever code wrote it.
create temp table t as select test_support.register() as u;
select test_support.fund((select u from t), 100000);

select throws_ok(
  $$update public.user_accounts set available_minor = -1 where user_id = (select u from t)$$,
  '23514', null, 'available may not go below zero');
select throws_ok(
  $$update public.user_accounts set available_minor = available_minor - (available_minor + 1)
    where user_id = (select u from t)$$,
  '23514', null, 'not by one minor unit either');
select lives_ok(
  $$update public.user_accounts set available_minor = 0 where user_id = (select u from t)$$,
  'zero is allowed');
select is(
  (select pg_get_constraintdef(oid) from pg_constraint
   where conrelid = 'public.user_accounts'::regclass and conname = 'user_accounts_available_nonnegative'),
  'CHECK ((available_minor >= 0))', 'the constraint is the non-negative check');

select * from finish();
rollback;
