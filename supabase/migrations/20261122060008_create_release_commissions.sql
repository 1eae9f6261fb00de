-- The holding period: commissions whose releases_at has passed move from pending to available,
-- exactly once (status re-checked under the users' locks), at most p_limit per call.
create function money.release_due_commissions(p_now timestamptz default now(), p_limit int default 5000)
returns int
language plpgsql as $$
declare
  v_ids uuid[];
  c record;
  n int := 0;
begin
  select array_agg(commission_id) into v_ids from (
    select commission_id from public.commissions
    where status = 'pending' and releases_at <= p_now
    order by releases_at, commission_id
    limit least(greatest(p_limit, 1), 50000)
  ) due;
  if v_ids is null then return 0; end if;
  perform money.lock_users(array(select distinct beneficiary_id from public.commissions where commission_id = any(v_ids)));
  for c in
    select * from public.commissions where commission_id = any(v_ids) and status = 'pending' order by commission_id
  loop
    perform event_store.append_events('purchase-' || c.purchase_id, 'stream_exists', jsonb_build_array(jsonb_build_object(
      'type', 'CommissionReleased',
      'data', jsonb_build_object('commissionId', c.commission_id, 'amountMinor', c.amount_minor - c.reversed_minor,
        'currency', c.currency))), jsonb_build_object('actorId', null, 'job', 'release_commissions'));
    n := n + 1;
  end loop;
  return n;
end;
$$;
comment on function money.release_due_commissions(timestamptz, int) is 'Release commissions past their holding period (pg_cron, every minute). Safe to run concurrently and repeatedly.';

-- pg_cron lives in one database per cluster (cron.database_name; on Supabase, postgres). Elsewhere
-- (a scratch test database, say) the jobs are simply not scheduled.
do $$
begin
  create extension if not exists pg_cron;
exception when others then
  raise notice 'pg_cron is not available in this database (%): periodic jobs are not scheduled', sqlerrm;
end $$;

-- Schedule (or reschedule) a periodic job by name: safe to run twice, and a no-op where pg_cron is not
-- installed. pg_cron 1.4 schedules in minutes (no seconds) and in UTC.
create function private.schedule_job(p_name text, p_schedule text, p_command text) returns void
language plpgsql as $$
begin
  if to_regnamespace('cron') is null then return; end if;
  perform cron.unschedule(jobid) from cron.job where jobname = p_name;
  perform cron.schedule(p_name, p_schedule, p_command);
end;
$$;
revoke all on function private.schedule_job(text, text, text) from public;

select private.schedule_job('release-commissions', '* * * * *', 'select money.release_due_commissions()');
-- cron.job_run_details grows forever otherwise.
select private.schedule_job('clean-cron-history', '17 3 * * *',
  $q$delete from cron.job_run_details where end_time < now() - interval '7 days'$q$);
