-- One job refreshes every aggregate in analytics, concurrently (readers never wait; each has a unique
-- index for it), replacing the hourly refresh of daily_sales alone. A matview added later is refreshed
-- without touching this function.
create or replace function private.refresh_analytics() returns void
language plpgsql as $$
declare
  v_view regclass;
begin
  for v_view in
    select c.oid::regclass from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'analytics' and c.relkind = 'm' order by c.relname
  loop
    execute format('refresh materialized view concurrently %s', v_view);
  end loop;
end;
$$;
revoke all on function private.refresh_analytics() from public;
comment on function private.refresh_analytics() is 'Refreshes every materialized view in analytics, concurrently (pg_cron job refresh-analytics).';

select private.schedule_job('refresh-analytics', '*/10 * * * *', 'select private.refresh_analytics()');
comment on materialized view analytics.daily_sales is 'Paid purchases per UTC day; refreshed every 10 minutes (concurrently).';
