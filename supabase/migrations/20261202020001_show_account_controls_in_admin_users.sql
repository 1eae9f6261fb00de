-- admin.users (20261122080001_create_admin_schema.sql) with the account controls beside the balances:
-- the held balance, and whether, why and since when the account is frozen.
create or replace view admin.users as
  select u.user_id, p.email, c.role, u.referral_code, u.referrer_id, u.vip_level, u.kyc_status, u.registered_at,
         a.available_minor, a.pending_minor, a.in_transit_minor, a.owed_minor, a.withdrawn_minor,
         a.held_minor, f.user_id is not null as frozen, f.reason as frozen_reason, f.frozen_at
  from public.users u
  join private.profiles p using (user_id)
  join private.credentials c using (user_id)
  left join public.user_accounts a using (user_id)
  left join money.frozen_accounts f using (user_id);
comment on view admin.users is 'Users with email, role, balances and freeze state. Freeze through POST /admin/users/{id}/freeze; promote an admin with: select private.promote_to_admin(''<email>'');';
