-- What Supabase clients read directly is what the functions show them, no more: their own rows, and
-- never another person's ids or purchases. projections.register_table gave a signed-in user select on
-- every row they own; three of those said too much:
--   referral_uplines  a user's ten ancestor ids (the functions show only the direct referrer,
--                     public.users.referrer_id): no access.
--   commissions       one row per downline purchase (its id, the share and the time); the functions
--                     show commissions only as totals (user_accounts) and as the user's own ledger lines:
--                     no access.
--   withdrawals, kyc_cases.decided_by
--                     the deciding admin's id: every column but that one. (Column privileges: a
--                     client names the columns it reads; `select *` is refused.)
drop policy referral_uplines_select_own on public.referral_uplines;
revoke select on table public.referral_uplines from authenticated;

drop policy commissions_select_own on public.commissions;
revoke select on table public.commissions from authenticated;

revoke select on table public.withdrawals from authenticated;
grant select (withdrawal_id, user_id, amount_minor, currency, status, requested_at, decided_at, reference)
  on table public.withdrawals to authenticated;

revoke select on table public.kyc_cases from authenticated;
grant select (case_id, user_id, status, final, document_count, version, submitted_position, submitted_at, decided_at)
  on table public.kyc_cases to authenticated;
