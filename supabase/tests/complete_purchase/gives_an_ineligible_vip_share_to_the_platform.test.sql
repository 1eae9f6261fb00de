begin;
select plan(3);

-- Upline at level 2 holds VIP 1: VIP n earns on levels 1..n only.
create temp table t as select test_support.chain(3) as c, test_support.package(10000, 100, 30) as p;
select test_support.set_vip((select c[2] from t), 5);
select test_support.set_vip((select c[1] from t), 1);
create temp table b as select test_support.buy((select c[3] from t), (select p from t)) as purchase_id;

select results_eq(
  $$select level::int, beneficiary_id, vip_level::int, reason from public.commissions
    where purchase_id = (select purchase_id from b) and level <= 2 order by level$$,
  $$values (1, (select c[2] from t), 5, 'earned'), (2, null::uuid, 1, 'vip_ineligible')$$,
  'the VIP 1 upline does not earn level 2; the event records the VIP level used');
select is((select rate_bps from public.commissions where purchase_id = (select purchase_id from b) and level = 2),
  (select max(rate_bps) from money.commission_rates where level = 2), 'the level''s share is kept whole for the platform');
select is((select vip_level from public.users where user_id = (select c[3] from t)), 1::smallint,
  'the buyer qualifies for VIP 1 by buying (VipLevelChanged)');

select * from finish();
rollback;
