-- private.account_json in PL/pgSQL: the same query and answer, but its plan is made once per session and
-- reused (a LANGUAGE sql function that cannot be inlined, like the query sent as text with postgres.js's
-- `prepare: false`, is planned on every call). GET /auth/me calls it on every request; the planning was
-- most of its cost: pgbench, 8 clients, simple protocol, alternating 5 s rounds on the same database:
-- the query sent inline 2,138 / 2,113 TPS, this function 4,146 / 3,693 TPS (select 1: 7,727 TPS).
create or replace function private.account_json(p_user_id uuid) returns jsonb
language plpgsql stable as $$
begin
  return (
    select jsonb_build_object(
      'id', u.user_id,
      'email', p.email,
      'role', c.role,
      'referralCode', u.referral_code,
      'referrerId', u.referrer_id,
      'vipLevel', u.vip_level,
      'kycStatus', u.kyc_status,
      'createdAt', to_char(u.registered_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      'emailVerified', exists (select from private.verified_emails v where v.user_id = u.user_id),
      'emailDeliverable', not exists (select from notify.suppressions s where s.email = p.email)
    )
    from public.users u
    join private.profiles p on p.user_id = u.user_id
    join private.credentials c on c.user_id = u.user_id
    where u.user_id = p_user_id);
end;
$$;
