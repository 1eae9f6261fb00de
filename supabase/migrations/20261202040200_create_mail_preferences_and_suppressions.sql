-- Optional mails (the commission digest), their preferences and one-click unsubscribe, and the provider's
-- bounce / complaint events that put an address on the suppression list (issue 9).

-- Commissions released per user and UTC day, gathered live (like the outbox: only for events appended by
-- the running transaction, so a rebuild adds nothing) and mailed as one digest the next day.
create table notify.commission_digest_days (
  user_id uuid not null,
  day date not null,
  commissions int not null default 0,
  amount_minor bigint not null default 0,
  currency text not null,
  constraint commission_digest_days_pkey primary key (user_id, day)
);
comment on table notify.commission_digest_days is 'Released commissions per user and UTC day, waiting for that day''s digest mail.';

create function notify.gather_commission_release(e event_store.events) returns void
language plpgsql as $$
declare
  v_user uuid;
begin
  if e.transaction_id is distinct from pg_current_xact_id_if_assigned() then return; end if;
  select beneficiary_id into v_user from public.commissions where commission_id = (e.data->>'commissionId')::uuid;
  if v_user is null or (e.data->>'amountMinor')::bigint <= 0 then return; end if;
  insert into notify.commission_digest_days as d (user_id, day, commissions, amount_minor, currency)
  values (v_user, (e.recorded_at at time zone 'UTC')::date, 1, (e.data->>'amountMinor')::bigint, e.data->>'currency')
  on conflict (user_id, day) do update set commissions = d.commissions + 1, amount_minor = d.amount_minor + excluded.amount_minor;
end;
$$;
insert into projections.handlers (event_type, handler, priority)
values ('CommissionReleased', 'notify.gather_commission_release(event_store.events)'::regprocedure, 200);

-- One digest per user per finished UTC day (dedupe key commission_digest:<user>:<day>: at most one a
-- day, whatever runs twice). Users who turned the digest off get none. Returns the mails queued.
create function notify.enqueue_commission_digests(p_before date default (now() at time zone 'UTC')::date) returns int
language plpgsql as $$
declare
  n int;
begin
  with done as (
    delete from notify.commission_digest_days where day < p_before returning *
  ), queued as (
    insert into notify.outbox (dedupe_key, kind, user_id, variables)
    select 'commission_digest:' || d.user_id || ':' || d.day, 'commission_digest', d.user_id,
           jsonb_build_object('count', d.commissions, 'amount', notify.format_money(d.amount_minor, d.currency),
                              'day', to_char(d.day, 'YYYY-MM-DD'))
    from done d left join notify.preferences p on p.user_id = d.user_id
    where coalesce(p.commission_digest, true)
    on conflict (dedupe_key) do nothing
    returning 1
  )
  select count(*) into n from queued;
  return n;
end;
$$;
select private.schedule_job('commission-digests', '15 0 * * *', 'select notify.enqueue_commission_digests()');

-- GET /account/notifications: the optional mails and whether each is on.
create function notify.preferences_json(p_user_id uuid) returns jsonb
language sql stable as $$
  select jsonb_build_object('commissionDigest', coalesce((select commission_digest from notify.preferences where user_id = p_user_id), true))
$$;

-- PUT /account/notifications and one-click unsubscribe: set one optional mail on or off (an unknown
-- preference name is NT422).
create function notify.set_preference(p_user_id uuid, p_preference text, p_on boolean) returns jsonb
language plpgsql as $$
begin
  if p_preference is distinct from 'commission_digest' then
    raise exception 'unknown preference %', p_preference using errcode = 'NT422';
  end if;
  insert into notify.preferences as p (user_id, commission_digest) values (p_user_id, p_on)
  on conflict (user_id) do update set commission_digest = excluded.commission_digest, updated_at = now();
  return notify.preferences_json(p_user_id);
end;
$$;

-- The provider's events (Resend, signed with Svix), once per event id.
create table notify.provider_events (
  event_id text primary key,
  type text not null,
  received_at timestamptz not null default now(),
  constraint provider_events_event_id_length check (length(event_id) between 1 and 200)
);
comment on table notify.provider_events is 'Mail provider webhook events already handled (deduplication by event id).';

-- A hard bounce or a complaint suppresses the addresses; other events are only recorded. Returns
-- 'duplicate' for an event id seen before, else 'suppressed' or 'recorded'.
create function notify.record_provider_event(p_event_id text, p_type text, p_addresses text[], p_suppress_reason text)
returns text
language plpgsql as $$
begin
  insert into notify.provider_events (event_id, type) values (p_event_id, p_type) on conflict (event_id) do nothing;
  if not found then return 'duplicate'; end if;
  if p_suppress_reason is null then return 'recorded'; end if;
  insert into notify.suppressions (email, reason, provider_event_id)
  select distinct lower(btrim(a)), p_suppress_reason, p_event_id from unnest(p_addresses) a where btrim(a) <> ''
  on conflict (email) do nothing;
  return 'suppressed';
end;
$$;
