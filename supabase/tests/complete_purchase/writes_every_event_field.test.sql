begin;
select plan(7);

-- A buyer under three uplines: one VIP 10 (earns), one VIP 0 (ineligible), one VIP 10; levels 4-10 empty.
create temp table t as select test_support.chain(4) as c, test_support.package(12345, 80, 30) as p;
select test_support.set_vip(c[1], 10) from t;
select test_support.set_vip(c[3], 10) from t;
create temp table b as select test_support.buy((select c[4] from t), (select p from t)) as purchase_id;
create temp table ev as
  select type, data, recorded_at from event_store.events where stream_id = 'purchase-' || (select purchase_id from b);

select is((select array_agg(k order by k) from ev, jsonb_object_keys(data) k where type = 'Purchased'),
  array['amountMinor', 'contractId', 'currency', 'dailyRateBps', 'durationDays', 'endsAt', 'packageId',
        'paymentIntentId', 'purchaseId', 'startsAt', 'userId'],
  'Purchased carries every field, and no other');
select is((select jsonb_build_array(data->'amountMinor', data->'dailyRateBps', data->'durationDays', data->>'userId')
           from ev where type = 'Purchased'),
  (select jsonb_build_array(12345, 80, 30, c[4]) from t),
  'Purchased holds the package''s terms and the buyer');
select is((select (data->>'endsAt')::timestamptz - (data->>'startsAt')::timestamptz from ev where type = 'Purchased'),
  interval '30 days', 'the contract runs the package''s duration from the next full hour');
select is((select count(distinct (select array_agg(k order by k) from jsonb_object_keys(data) k)) from ev
           where type = 'CommissionAccrued'), 1::bigint, 'every commission has the same fields');
select is((select array_agg(k order by k) from (select data from ev where type = 'CommissionAccrued' limit 1) x,
           jsonb_object_keys(x.data) k),
  array['amountMinor', 'beneficiaryId', 'commissionId', 'currency', 'level', 'purchaseId', 'rateBps', 'reason',
        'releasesAt', 'vipLevel'],
  'CommissionAccrued carries every field, and no other');
select is((select array_agg(data->>'reason' order by (data->>'level')::int) from ev where type = 'CommissionAccrued'),
  array['earned', 'vip_ineligible', 'earned', 'no_upline', 'no_upline', 'no_upline', 'no_upline', 'no_upline',
        'no_upline', 'no_upline'],
  'each level says why it went where it went');
select is((select count(distinct data->>'releasesAt') from ev where type = 'CommissionAccrued'), 1::bigint,
  'all ten commissions release at the same time');

select * from finish();
rollback;
