-- What other areas ask about KYC. Withdrawals: `kyc.is_approved(user_id)` (or public.users.kyc_status =
-- 'approved', which the KYC projection keeps current): a revoked approval is no longer approved.
create function kyc.is_approved(p_user_id uuid) returns boolean
language sql stable as $$
  select coalesce((select kyc_status = 'approved' from public.users where user_id = p_user_id), false);
$$;
comment on function kyc.is_approved(uuid) is 'Whether the user''s latest KYC case is approved (false after a revocation).';

-- Erase the personal data of one case (a person's erasure request, or retention running out): the
-- applicant's fields, the document metadata and the decisions' free text. The case, its events and
-- its digests stay. Returns the storage keys of the files, which the caller deletes from storage.
create function private.erase_kyc_case(p_case_id uuid) returns text[]
language plpgsql as $$
declare
  v_keys text[];
begin
  select coalesce(array_agg(storage_key order by ordinal), '{}') into v_keys
  from private.kyc_documents where case_id = p_case_id;
  delete from private.kyc_applicants where case_id = p_case_id; -- documents go with it (on delete cascade)
  update private.kyc_decisions set reason = null, note = null where case_id = p_case_id;
  return v_keys;
end;
$$;
revoke all on function private.erase_kyc_case(uuid) from public;
comment on function private.erase_kyc_case(uuid) is
  'Erase a KYC case''s personal data (applicant, document metadata, reasons, notes); returns the storage keys to delete.';
