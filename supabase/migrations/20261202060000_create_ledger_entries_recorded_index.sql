-- Finance exports (GET /admin/exports/ledger.csv) read a time window in keyset pages: this index serves
-- both the window and the page order, so each page is an index range read, not a scan of the ledger.
create index if not exists ledger_entries_recorded_idx
  on public.ledger_entries (recorded_at, event_position, line);
