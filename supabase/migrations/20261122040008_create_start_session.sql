-- A login opens a new session: a refresh-token family with its first token.
create function private.start_session(
  p_user_id uuid,
  p_family_id uuid,
  p_refresh_token_sha256 text,
  p_refresh_token_ttl_seconds int
) returns void
language sql as $$
  insert into private.refresh_token_families (family_id, user_id) values (p_family_id, p_user_id);
  insert into private.refresh_tokens (token_sha256, family_id, user_id, expires_at)
  values (p_refresh_token_sha256, p_family_id, p_user_id, now() + make_interval(secs => p_refresh_token_ttl_seconds));
$$;
revoke all on function private.start_session(uuid, uuid, text, int) from public;
