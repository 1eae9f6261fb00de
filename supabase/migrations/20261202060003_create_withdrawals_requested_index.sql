-- Finance exports (GET /admin/exports/withdrawals.csv): the window and the keyset page order in one index
-- (withdrawals_status_idx leads with the status, so it cannot serve a window over every status).
create index if not exists withdrawals_requested_idx on public.withdrawals (requested_at, withdrawal_id);
