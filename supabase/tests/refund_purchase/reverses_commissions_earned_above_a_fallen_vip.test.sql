begin;
select plan(6);

-- A buys for herself (VIP 1). Two sockpuppets under her, one buying 100,000, lift her team volume to
-- VIP 2 (team 100,000, two direct referrals). Then Y, two levels under her through X, buys 10,000:
-- level 2 pays 4% = 400, only at VIP 2 or above.
create temp table t as select test_support.register() as a, test_support.package(100000, 100, 30) as big,
  test_support.package(10000, 100, 30) as small;
select test_support.buy(a, small) from t;
alter table t add column s1 uuid, add column s2 uuid, add column x uuid, add column y uuid;
update t set s1 = test_support.register(a), s2 = test_support.register(a);
update t set x = test_support.register(a);
update t set y = test_support.register(x);
create temp table sock as select test_support.buy(s1, big) as purchase_id from t;
select is((select vip_level from public.users where user_id = (select a from t)), 2::smallint, 'the sockpuppet lifts A to VIP 2');
select test_support.buy(y, small) from t;
select is((select amount_minor from public.commissions where beneficiary_id = (select a from t) and level = 2),
  400::bigint, 'A earns the level-2 commission on Y''s purchase');
select money.release_due_commissions(now() + interval '1 year');

-- The sockpuppet purchase is refunded after the hold: A falls back to VIP 1, and the level-2
-- commission earned only through that volume is taken back (its 8,000 level-1 commission too, as a refund does).
select money.refund_purchase('pi_test_' || (select purchase_id from sock), 100000, 'usd', 'refund', 'evt_sock');
select is((select vip_level from public.users where user_id = (select a from t)), 1::smallint, 'A is VIP 1 again');
select is((select reversed_minor || '/' || vip_reversed_minor from public.commissions
           where beneficiary_id = (select a from t) and level = 2), '400/400',
  'the commission earned above the fallen level is reversed');
select is((select available_minor + owed_minor from public.user_accounts where user_id = (select a from t)),
  0::bigint, 'A keeps nothing she earned through the sockpuppet''s volume');
select is_empty('select * from projections.verify_rebuild()', 'rebuilding gives the same rows');

select * from finish();
rollback;
