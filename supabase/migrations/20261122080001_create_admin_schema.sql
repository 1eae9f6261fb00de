-- What admins see in Supabase Studio: the admin schema's views (with personal data, for review work)
-- and the operator functions, each described with `comment on`.
create schema if not exists admin;
comment on schema admin is 'For administrators in Supabase Studio: review queues and user lookups (personal data). Decisions go through the admin function so they are recorded as events.';
revoke all on schema admin from public;

create view admin.users as
  select u.user_id, p.email, c.role, u.referral_code, u.referrer_id, u.vip_level, u.kyc_status, u.registered_at,
         a.available_minor, a.pending_minor, a.in_transit_minor, a.owed_minor, a.withdrawn_minor
  from public.users u
  join private.profiles p using (user_id)
  join private.credentials c using (user_id)
  left join public.user_accounts a using (user_id);
comment on view admin.users is 'Users with email, role and balances. Promote an admin with: select private.promote_to_admin(''<email>'');';

create view admin.kyc_queue as
  select k.case_id, k.user_id, p.email, k.status, k.document_count, k.submitted_at
  from public.kyc_cases k join private.profiles p using (user_id)
  where k.status = 'pending';
comment on view admin.kyc_queue is 'Pending KYC cases, oldest first by submitted_at; decide through POST /admin/kyc/{caseId}/decision.';

create view admin.withdrawals_to_review as
  select w.withdrawal_id, w.user_id, p.email, w.amount_minor, w.currency, w.status, w.requested_at, d.destination,
         kyc.is_approved(w.user_id) as kyc_approved
  from public.withdrawals w
  join private.profiles p using (user_id)
  join private.withdrawal_destinations d using (withdrawal_id)
  where w.status in ('pending', 'approved');
comment on view admin.withdrawals_to_review is 'Withdrawals waiting for approval or payout; decide through POST /admin/withdrawals/{id}/decision.';

create view admin.earnings_runs as
  select run_id, started_at, duration_ms, periods, first_period, last_period, contracts, total_minor, status, error
  from money.earnings_runs;
comment on view admin.earnings_runs is 'Every earnings job run: periods, contracts, total, duration, status and error.';

create view admin.platform_balances as
  select account, currency, sum(amount_minor) as balance_minor
  from public.ledger_entries where user_id is null group by account, currency;
comment on view admin.platform_balances is 'Platform accounts (revenue, expenses, Stripe clearing, payouts, unassigned commissions): the sum of their entries.';

comment on function private.promote_to_admin(text) is 'Operator: give an existing user (by email) the admin role; their next token carries it.';
comment on function money.release_due_commissions(timestamptz, int) is 'Release commissions past their holding period (pg_cron, every minute). Safe to run concurrently and repeatedly.';
