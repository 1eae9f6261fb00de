-- Finance exports (GET /admin/exports/commissions.csv): the window and the keyset page order in one index.
create index if not exists commissions_accrued_idx on public.commissions (accrued_at, commission_id);
