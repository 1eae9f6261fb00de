begin;
select plan(1);
-- Hand-made withdrawals far in the future (2031), so the days checked hold nothing but them; rolled back.
insert into public.withdrawals (withdrawal_id, user_id, amount_minor, currency, status, requested_at, decided_at)
select gen_random_uuid(), gen_random_uuid(), amount, 'USD', status, requested::timestamptz, decided::timestamptz
from (values (1000, 'paid', '2031-05-01 10:00Z', '2031-05-02 09:00Z'),
             (2000, 'pending', '2031-05-01 11:00Z', null),
             (4000, 'rejected', '2031-05-02 11:00Z', '2031-05-02 12:00Z'),
             (8000, 'paid', '2031-05-02 13:00Z', '2031-05-02 14:00Z'),
             (1600, 'approved', '2031-05-03 13:00Z', '2031-05-03 14:00Z')) as v(amount, status, requested, decided);
refresh materialized view analytics.daily_withdrawals;

select results_eq(
  $$select day::text, currency, requested, requested_minor, paid, paid_minor
    from analytics.daily_withdrawals where day >= '2031-05-01' order by day$$,
  $$values ('2031-05-01', 'USD', 2::bigint, 3000::bigint, 0::bigint, 0::bigint),
           ('2031-05-02', 'USD', 2, 12000, 2, 9000),
           ('2031-05-03', 'USD', 1, 1600, 0, 0)$$,
  'requested by the day asked for, paid by the day marked paid');
select * from finish();
rollback;
