-- Operators make admins; signup never does. Locally: ./dev admin create <email>. In production, in
-- the Supabase SQL editor (or psql as postgres):  select private.promote_to_admin('ops@example.com');
-- The user's next access token (after a refresh or login, at most 15 minutes) carries the role.
-- Raises AU404 when no user has that email. Repeating it is a no-op.
create function private.promote_to_admin(p_email text) returns uuid
language plpgsql as $$
declare
  v_user_id uuid;
begin
  select user_id into v_user_id from private.profiles where email = lower(btrim(normalize(p_email, nfc)));
  if v_user_id is null then
    raise exception 'no user with email %', p_email using errcode = 'AU404';
  end if;
  update private.credentials set role = 'admin', role_changed_at = now()
  where user_id = v_user_id and role <> 'admin';
  if found then
    raise log 'promote_to_admin: user % promoted by %', v_user_id, session_user;
  end if;
  return v_user_id;
end;
$$;
revoke all on function private.promote_to_admin(text) from public;
comment on function private.promote_to_admin(text) is
  'Operator-only: give the user with this email the admin role (effective from their next token). AU404 if unknown.';
