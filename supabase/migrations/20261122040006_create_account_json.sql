-- The account as the API shows it ({id, email, role, referralCode, referrerId, vipLevel, kycStatus,
-- createdAt}): one definition used by signup, login, refresh and /auth/me. Null for an unknown user.
create function private.account_json(p_user_id uuid) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'id', u.user_id,
    'email', p.email,
    'role', c.role,
    'referralCode', u.referral_code,
    'referrerId', u.referrer_id,
    'vipLevel', u.vip_level,
    'kycStatus', u.kyc_status,
    'createdAt', to_char(u.registered_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  )
  from public.users u
  join private.profiles p on p.user_id = u.user_id
  join private.credentials c on c.user_id = u.user_id
  where u.user_id = p_user_id;
$$;
revoke all on function private.account_json(uuid) from public;
