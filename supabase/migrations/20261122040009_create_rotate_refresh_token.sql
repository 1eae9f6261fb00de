-- Exchange a refresh token for a new one in the same family. Returns {"outcome": ...}:
--   rotated  → also "familyId" and "user" (private.account_json), the new token is stored
--   reused   → the token was already used: it leaked, so the whole family is revoked (and committed:
--              this returns instead of raising, so the revocation is not rolled back)
--   revoked  → the family was revoked earlier (logout, reuse, operator)
--   expired / invalid → too old / never issued
-- Two concurrent uses of one token: the row lock makes the second see used_at and revoke the family.
create function private.rotate_refresh_token(
  p_refresh_token_sha256 text,
  p_new_refresh_token_sha256 text,
  p_refresh_token_ttl_seconds int
) returns jsonb
language plpgsql as $$
declare
  v_token private.refresh_tokens;
  v_family private.refresh_token_families;
begin
  select * into v_token from private.refresh_tokens where token_sha256 = p_refresh_token_sha256 for update;
  if not found then
    return jsonb_build_object('outcome', 'invalid');
  end if;
  select * into v_family from private.refresh_token_families where family_id = v_token.family_id for update;
  if v_family.revoked_at is not null then
    return jsonb_build_object('outcome', 'revoked');
  end if;
  if v_token.used_at is not null then
    update private.refresh_token_families set revoked_at = now(), revoked_reason = 'reuse'
    where family_id = v_family.family_id;
    return jsonb_build_object('outcome', 'reused');
  end if;
  if v_token.expires_at <= now() then
    return jsonb_build_object('outcome', 'expired');
  end if;

  update private.refresh_tokens set used_at = now() where token_sha256 = p_refresh_token_sha256;
  insert into private.refresh_tokens (token_sha256, family_id, user_id, expires_at)
  values (p_new_refresh_token_sha256, v_family.family_id, v_family.user_id,
          now() + make_interval(secs => p_refresh_token_ttl_seconds));
  return jsonb_build_object('outcome', 'rotated', 'familyId', v_family.family_id,
                            'user', private.account_json(v_family.user_id));
end;
$$;
revoke all on function private.rotate_refresh_token(text, text, int) from public;
comment on function private.rotate_refresh_token(text, text, int) is
  'Rotate a refresh token; reuse of a used token revokes its family. Returns {"outcome": rotated|reused|revoked|expired|invalid, ...}.';
