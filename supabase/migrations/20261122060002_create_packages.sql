-- The catalog: projection of PackagePublished / PackageRetired. Terms never change after publishing
-- (a new package replaces an old one), so a purchase can always be traced to the terms it bought.
create table public.packages (
  package_id uuid primary key,
  name text not null,
  price_minor bigint not null,
  currency text not null,
  daily_rate_bps int not null,
  duration_days int not null,
  status text not null,
  published_at timestamptz not null,
  retired_at timestamptz,
  constraint packages_price_positive check (price_minor > 0),
  constraint packages_status_check check (status in ('active', 'retired'))
);
comment on table public.packages is 'The catalog (projection of PackagePublished/PackageRetired). Anyone may read active packages.';
create index packages_active_idx on public.packages (price_minor, package_id) where status = 'active';

select projections.register_table('public.packages');
create policy packages_select_active on public.packages for select to anon, authenticated using (status = 'active');
grant select on table public.packages to anon, authenticated;

create function projections.project_package(e event_store.events) returns void
language plpgsql as $$
begin
  if e.type = 'PackagePublished' then
    insert into public.packages (package_id, name, price_minor, currency, daily_rate_bps, duration_days, status, published_at)
    values ((e.data ->> 'packageId')::uuid, e.data ->> 'name', (e.data ->> 'priceMinor')::bigint, e.data ->> 'currency',
            (e.data ->> 'dailyRateBps')::int, (e.data ->> 'durationDays')::int, 'active', e.recorded_at);
  else
    update public.packages set status = 'retired', retired_at = e.recorded_at
    where package_id = (e.data ->> 'packageId')::uuid;
  end if;
end;
$$;
insert into projections.handlers (event_type, handler, priority) values
  ('PackagePublished', 'projections.project_package(event_store.events)'::regprocedure, 10),
  ('PackageRetired', 'projections.project_package(event_store.events)'::regprocedure, 10);

-- Errors: MO422 a package in another currency than the platform's; MO404 unknown package;
-- MO409 already retired.
create function money.publish_package(
  p_package_id uuid, p_name text, p_price_minor bigint, p_currency text, p_daily_rate_bps int, p_duration_days int,
  p_metadata jsonb default '{}'::jsonb
) returns jsonb
language plpgsql as $$
begin
  if p_currency <> (money.settings()).currency then
    raise exception 'packages are priced in the platform currency %', (money.settings()).currency using errcode = 'MO422';
  end if;
  perform event_store.append_events('package-' || p_package_id, 'no_stream', jsonb_build_array(jsonb_build_object(
    'type', 'PackagePublished',
    'data', jsonb_build_object('packageId', p_package_id, 'name', p_name, 'priceMinor', p_price_minor,
      'currency', p_currency, 'dailyRateBps', p_daily_rate_bps, 'durationDays', p_duration_days))), p_metadata);
  return money.package_json(p_package_id);
end;
$$;

create function money.retire_package(p_package_id uuid, p_metadata jsonb default '{}'::jsonb) returns jsonb
language plpgsql as $$
declare
  v_status text;
begin
  select status into v_status from public.packages where package_id = p_package_id for update;
  if v_status is null then raise exception 'unknown package' using errcode = 'MO404'; end if;
  if v_status = 'retired' then raise exception 'package already retired' using errcode = 'MO409'; end if;
  perform event_store.append_events('package-' || p_package_id, 'stream_exists', jsonb_build_array(jsonb_build_object(
    'type', 'PackageRetired', 'data', jsonb_build_object('packageId', p_package_id))), p_metadata);
  return money.package_json(p_package_id);
end;
$$;

create function money.package_json(p_package_id uuid) returns jsonb
language sql stable as $$
  select jsonb_build_object('id', package_id, 'name', name, 'priceMinor', price_minor, 'currency', currency,
    'dailyRateBps', daily_rate_bps, 'durationDays', duration_days, 'status', status)
  from public.packages where package_id = p_package_id
$$;
