-- Finance exports (GET /admin/exports/purchases.csv): the window and the keyset page order in one index.
create index if not exists purchases_created_idx on public.purchases (created_at, purchase_id);
