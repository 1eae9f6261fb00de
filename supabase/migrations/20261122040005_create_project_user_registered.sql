-- UserRegistered → public.users. Runs in the appending transaction and again on rebuild; the row's
-- time is the event's, so a rebuild reproduces it exactly.
create function projections.project_user_registered(e event_store.events) returns void
language plpgsql as $$
begin
  insert into public.users (user_id, referral_code, referrer_id, registered_at)
  values (
    (e.data ->> 'userId')::uuid,
    e.data ->> 'referralCode',
    (e.data ->> 'referrerId')::uuid,
    e.recorded_at
  );
end;
$$;

insert into projections.handlers (event_type, handler, priority)
values ('UserRegistered', 'projections.project_user_registered(event_store.events)'::regprocedure, 10);
