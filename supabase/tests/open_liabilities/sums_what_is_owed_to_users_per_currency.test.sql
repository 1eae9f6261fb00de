begin;
select plan(1);
-- Hand-made accounts in the ISO test currency XTS, so the row checked holds nothing but them; rolled back.
insert into public.user_accounts (user_id, currency, pending_minor, available_minor, in_transit_minor, held_minor, owed_minor)
values (gen_random_uuid(), 'XTS', 800, 0, 0, 0, 0),
       (gen_random_uuid(), 'XTS', 0, 1500, 2000, 0, -300),
       (gen_random_uuid(), 'XTS', 100, 0, 0, 400, 0);
refresh materialized view analytics.open_liabilities;

select results_eq(
  $$select accounts, pending_minor, available_minor, in_transit_minor, held_minor, total_minor, owed_to_platform_minor
    from analytics.open_liabilities where currency = 'XTS'$$,
  $$values (3::bigint, 900::bigint, 1500::bigint, 2000::bigint, 400::bigint, 4800::bigint, 300::bigint)$$,
  'pending + available + in transit + held, and what users owe back apart');
select * from finish();
rollback;
