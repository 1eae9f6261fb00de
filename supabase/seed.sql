-- Seed data for local development: applied by ./dev (and `supabase db reset`). Safe to run twice.
-- Nothing here is needed in production (defaults live in migrations).
--
-- A small demo catalog, so a new stack has something to show on GET /packages. Packages are published
-- through the real command (money.publish_package: PackagePublished, by an admin), so the catalog is in
-- the event log like any other and survives a rebuild. The acting admin is a seed account,
-- catalog@accrue.test, whose password hash is not a hash: nobody can log in as it.
do $$
declare
  v_admin constant uuid := '00000000-0000-4000-8000-0000000ca7a1';
  v_package record;
begin
  if not exists (select from private.profiles where user_id = v_admin) then
    perform private.register_user(v_admin, 'catalog@accrue.test', '$scrypt$no-login', 'CATAXG23', null,
      gen_random_uuid(), encode(sha256(gen_random_uuid()::text::bytea), 'hex'), 60,
      '{"requestId": "seed.sql"}');
    perform private.promote_to_admin('catalog@accrue.test');
  end if;
  for v_package in
    select * from (values
      ('00000000-0000-4000-8000-00000000d001'::uuid, 'Starter', 10000::bigint, 80, 30),
      ('00000000-0000-4000-8000-00000000d002'::uuid, 'Growth', 50000::bigint, 100, 60),
      ('00000000-0000-4000-8000-00000000d003'::uuid, 'Premium', 200000::bigint, 120, 90))
      as p(package_id, name, price_minor, daily_rate_bps, duration_days)
    where not exists (select from public.packages k where k.package_id = p.package_id)
  loop
    perform money.publish_package(v_package.package_id, v_package.name, v_package.price_minor,
      (money.settings()).currency, v_package.daily_rate_bps, v_package.duration_days,
      jsonb_build_object('actorId', v_admin, 'requestId', 'seed.sql'));
  end loop;
end;
$$;
