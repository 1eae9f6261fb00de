-- Signup in one round trip: resolve the referral code, claim the email, store the password hash,
-- open the first session and append UserRegistered (whose projection writes public.users).
-- The caller (the auth function) has already normalised and validated every input.
--
-- Errors (SQLSTATE): AU409 email taken, AU422 unknown referral code, AU423 the new referral code is
-- taken (the caller retries with another). Concurrent signups with one email: the unique index makes
-- all but the first wait for it to commit, then see the conflict; exactly one succeeds. Two signups
-- drawing the same new referral code at once: the second fails on users_referral_code_key (23505),
-- which the caller treats like AU423.
create function private.register_user(
  p_user_id uuid,
  p_email text,
  p_password_hash text,
  p_referral_code text,
  p_referred_by_code text,
  p_family_id uuid,
  p_refresh_token_sha256 text,
  p_refresh_token_ttl_seconds int,
  p_metadata jsonb default '{}'::jsonb
) returns jsonb
language plpgsql as $$
declare
  v_referrer_id uuid;
begin
  if p_referred_by_code is not null then
    -- The referrer must already exist, so the referral tree can never contain a cycle.
    select user_id into v_referrer_id from public.users where referral_code = p_referred_by_code;
    if v_referrer_id is null then
      raise exception 'unknown_referral_code' using errcode = 'AU422';
    end if;
    -- The projection moves the referrer's and uplines' counters, which purchases also move: lock their
    -- rows first, in id order, as every money command does (see projections' locking rule).
    perform 1 from public.users
    where user_id = any(coalesce((select ancestor_ids from public.referral_uplines where user_id = v_referrer_id), '{}')
                        || v_referrer_id)
    order by user_id
    for update;
  end if;

  insert into private.profiles (user_id, email) values (p_user_id, p_email)
  on conflict (email) do nothing;
  if not found then
    raise exception 'email_taken' using errcode = 'AU409';
  end if;

  if exists (select from public.users where referral_code = p_referral_code) then
    raise exception 'referral_code_taken' using errcode = 'AU423';
  end if;

  insert into private.credentials (user_id, password_hash) values (p_user_id, p_password_hash);
  insert into private.refresh_token_families (family_id, user_id) values (p_family_id, p_user_id);
  insert into private.refresh_tokens (token_sha256, family_id, user_id, expires_at)
  values (p_refresh_token_sha256, p_family_id, p_user_id, now() + make_interval(secs => p_refresh_token_ttl_seconds));

  -- UserRegistered carries ids only: the email stays in private.profiles, erasable.
  perform event_store.append_events(
    'user-' || p_user_id,
    'no_stream',
    jsonb_build_array(jsonb_build_object(
      'type', 'UserRegistered',
      'schemaVersion', 1,
      'data', jsonb_build_object('userId', p_user_id, 'referrerId', v_referrer_id, 'referralCode', p_referral_code)
    )),
    coalesce(p_metadata, '{}'::jsonb) || jsonb_build_object('actorId', p_user_id)
  );
  -- A new direct referral can lift the referrer's VIP level (for later commissions).
  if v_referrer_id is not null then
    perform money.refresh_vip_levels(array[v_referrer_id], coalesce(p_metadata, '{}'::jsonb) || jsonb_build_object('actorId', p_user_id));
  end if;
  return private.account_json(p_user_id);
end;
$$;
revoke all on function private.register_user(uuid, text, text, text, text, uuid, text, int, jsonb) from public;
comment on function private.register_user(uuid, text, text, text, text, uuid, text, int, jsonb) is
  'Signup: profile, credentials, first session and UserRegistered in one transaction. AU409 email taken, AU422 unknown referral code, AU423 referral code collision.';
