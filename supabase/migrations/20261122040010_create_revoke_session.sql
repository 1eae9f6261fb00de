-- Logout: revoke the caller's session (refresh-token family). Only the owner's own family matches,
-- and repeating it is a no-op. Returns whether a live family was revoked.
create function private.revoke_session(p_user_id uuid, p_family_id uuid, p_reason text default 'logout')
returns boolean
language sql as $$
  with revoked as (
    update private.refresh_token_families set revoked_at = now(), revoked_reason = p_reason
    where family_id = p_family_id and user_id = p_user_id and revoked_at is null
    returning 1
  )
  select exists (select from revoked);
$$;
revoke all on function private.revoke_session(uuid, uuid, text) from public;
