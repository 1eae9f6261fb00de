-- Contracts that reached their term become 'completed' (issue 12: finished contracts stayed 'active', so
-- every hourly run read every contract ever sold). The rule is derived, not commanded: the EarningsAccrued
-- projection marks a contract completed once it has projected the period ending at or after the contract's
-- end (20261202120100_chunk_earnings_runs.sql), so a rebuild reproduces it. A completed contract keeps
-- stopped_at and stopped_after_periods null like an active one: it was not stopped, and its accrued periods
-- are still derived from its dates (money.contract_periods_accrued gives the full term).
alter table public.contracts drop constraint contracts_status_check;
alter table public.contracts add constraint contracts_status_check
  check (status in ('active', 'completed', 'refunded', 'disputed'));
alter table public.contracts drop constraint contracts_stop_consistent;
alter table public.contracts add constraint contracts_stop_consistent
  check ((status in ('active', 'completed')) = (stopped_after_periods is null));

-- Contracts already past their term and accrued (the projection does this from now on).
update public.contracts set status = 'completed'
where status = 'active' and ends_at <= coalesce(money.earnings_watermark(), '-infinity');

-- What a run reads: the active contracts of a range of users, and (rare) the stopped ones of that range.
create index contracts_active_user_idx on public.contracts (user_id, starts_at, ends_at) where status = 'active';
-- What the completion step reads: active contracts whose term ended.
create index contracts_active_ends_at_idx on public.contracts (ends_at) where status = 'active';
create index contracts_stopped_user_idx on public.contracts (user_id) where status in ('refunded', 'disputed');
