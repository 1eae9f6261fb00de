-- Admin authority, checked in the database on every admin command: a token says "admin" for up to
-- its lifetime, private.credentials says it now. Every SQL admin command calls this first, in its own
-- transaction, so a demoted admin's command is refused even when their token has not expired.
-- FOR SHARE on the admin's credentials row: a demotion that commits while the command runs waits for
-- the command to finish, so no admin command commits after the demotion that took the right away.
-- Errors (SQLSTATE): KY403 not an admin (the code record_decision always used for it; the functions
-- map it to 403 forbidden).
create function private.assert_admin(p_actor_id uuid) returns void
language plpgsql as $$
begin
  perform from private.credentials where user_id = p_actor_id and role = 'admin' for share;
  if not found then
    raise exception 'not_admin: % is not an admin', coalesce(p_actor_id::text, 'an unnamed actor')
      using errcode = 'KY403';
  end if;
end;
$$;
revoke all on function private.assert_admin(uuid) from public;
comment on function private.assert_admin(uuid) is
  'Raise KY403 unless this user is an admin now (private.credentials); locks the row against a concurrent demotion. Every admin command calls it first.';
