begin;
select plan(4);

-- Every table that only deduplicates retries or records job runs has a scheduled cleanup (events are kept
-- forever: they are the books). purge_expired's own behaviour is keeps_what_a_retry_can_still_need.
select is((select command from cron.job where jobname = 'purge-expired'), 'select private.purge_expired()',
  'request idempotency, append keys and Stripe event ids are purged by a scheduled job');
select is((select schedule from cron.job where jobname = 'clean-cron-history'), '17 3 * * *',
  'pg_cron''s run history is cleaned daily');

-- The history cleanup, run as scheduled, deletes runs that ended over a week ago and keeps the others.
insert into cron.job_run_details (jobid, runid, command, status, start_time, end_time) values
  (0, -1, 'old', 'succeeded', now() - interval '8 days', now() - interval '8 days'),
  (0, -2, 'recent', 'succeeded', now() - interval '6 days', now() - interval '6 days');
do $$ begin execute (select command from cron.job where jobname = 'clean-cron-history'); end $$;
select results_eq('select command from cron.job_run_details where runid in (-1, -2)', array['recent'],
  'runs older than a week are deleted, newer ones kept');
select is((select count(*) from cron.job where jobname = 'accrue-earnings' and command = 'call money.run_earnings()'),
  1::bigint, 'the earnings job runs in chunks (money.run_earnings)');

select * from finish();
rollback;
