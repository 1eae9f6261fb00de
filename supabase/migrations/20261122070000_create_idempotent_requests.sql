-- Idempotency-Key for every POST that creates something (CONTRACT.md "Base"), shared by every function
-- (supabase/functions/_shared/http/idempotency.ts). Keys are per user: one row per (user, key) holds a
-- hash of the request (route and canonical body) and, once done, the response to replay.
--   claimed      the caller runs the request; operation_id is the id to create things under
--   in_progress  another request with this key is running (the caller waits, then answers 409)
--   completed    replay response_*
--   reused       the key was used with another request (409 idempotency_key_reused)
-- A 5xx outcome is not kept (the row is released, so a retry runs again). A claim whose owner died
-- (claimed_at older than p_stale_after) is taken over with the SAME operation_id, so the retry finds
-- whatever the dead request already created instead of creating it twice. Keys live 24 hours.
create table private.idempotent_requests (
  user_id uuid not null,
  idempotency_key text not null,
  request_sha256 bytea not null,
  operation_id uuid not null default gen_random_uuid(),
  state text not null default 'in_progress',
  response_status smallint,
  response_content_type text,
  response_body text,
  created_at timestamptz not null default now(),
  claimed_at timestamptz not null default now(),
  completed_at timestamptz,
  constraint idempotent_requests_pkey primary key (user_id, idempotency_key),
  constraint idempotent_requests_key_format check (idempotency_key ~ '^[\x21-\x7e]{1,255}$'),
  constraint idempotent_requests_sha256_length check (octet_length(request_sha256) = 32),
  constraint idempotent_requests_state_check check (state in ('in_progress', 'completed')),
  constraint idempotent_requests_completed_has_response check (
    (state = 'completed') = (response_status is not null and response_body is not null and completed_at is not null)),
  -- 5xx outcomes are never stored: a retry must be able to run again.
  constraint idempotent_requests_status_range check (response_status between 200 and 499)
);
comment on table private.idempotent_requests is 'Idempotency-Key per user for POSTs that create things: request hash, and the first response to replay. Kept 24 hours.';
create index idempotent_requests_created_idx on private.idempotent_requests (created_at);

create function private.idempotency_retention() returns interval
language sql immutable as $$ select interval '24 hours' $$;

create function private.claim_idempotent_request(
  p_user_id uuid, p_key text, p_request_sha256 bytea, p_stale_after interval
) returns table (outcome text, operation_id uuid, response_status smallint, response_content_type text, response_body text)
language plpgsql as $$
#variable_conflict use_column
declare
  r private.idempotent_requests;
begin
  -- Two rounds at most: the row we collided with may be released (deleted) before we read it.
  for attempt in 1..2 loop
    insert into private.idempotent_requests as i (user_id, idempotency_key, request_sha256)
    values (p_user_id, p_key, p_request_sha256)
    on conflict on constraint idempotent_requests_pkey do nothing
    returning * into r;
    if found then
      return query select 'claimed', r.operation_id, null::smallint, null::text, null::text;
      return;
    end if;
    select * into r from private.idempotent_requests i
    where i.user_id = p_user_id and i.idempotency_key = p_key for update;
    continue when not found;
    if r.created_at < now() - private.idempotency_retention() then
      -- Expired: the key starts afresh, as if never used.
      update private.idempotent_requests i
      set request_sha256 = p_request_sha256, operation_id = gen_random_uuid(), state = 'in_progress',
          response_status = null, response_content_type = null, response_body = null,
          created_at = now(), claimed_at = now(), completed_at = null
      where i.user_id = p_user_id and i.idempotency_key = p_key
      returning * into r;
      return query select 'claimed', r.operation_id, null::smallint, null::text, null::text;
      return;
    end if;
    if r.request_sha256 <> p_request_sha256 then
      return query select 'reused', null::uuid, null::smallint, null::text, null::text;
      return;
    end if;
    if r.state = 'completed' then
      return query select 'completed', r.operation_id, r.response_status, r.response_content_type, r.response_body;
      return;
    end if;
    if r.claimed_at < now() - p_stale_after then
      update private.idempotent_requests i set claimed_at = now()
      where i.user_id = p_user_id and i.idempotency_key = p_key;
      return query select 'claimed', r.operation_id, null::smallint, null::text, null::text;
      return;
    end if;
    return query select 'in_progress', null::uuid, null::smallint, null::text, null::text;
    return;
  end loop;
  -- Claimed and released twice while we looked: as busy as in progress.
  return query select 'in_progress', null::uuid, null::smallint, null::text, null::text;
end;
$$;

-- Store the outcome (only the claim's owner, only once). Returns false when the claim was lost.
create function private.complete_idempotent_request(
  p_user_id uuid, p_key text, p_operation_id uuid, p_status int, p_content_type text, p_body text
) returns boolean
language sql as $$
  with done as (
    update private.idempotent_requests
    set state = 'completed', response_status = p_status, response_content_type = p_content_type,
        response_body = p_body, completed_at = now()
    where user_id = p_user_id and idempotency_key = p_key and operation_id = p_operation_id and state = 'in_progress'
    returning 1
  )
  select exists (select 1 from done)
$$;

-- A 5xx (or a crash we saw): forget the claim so the client's retry runs again.
create function private.release_idempotent_request(p_user_id uuid, p_key text, p_operation_id uuid) returns void
language sql as $$
  delete from private.idempotent_requests
  where user_id = p_user_id and idempotency_key = p_key and operation_id = p_operation_id and state = 'in_progress'
$$;

revoke all on table private.idempotent_requests from public;
revoke all on function private.claim_idempotent_request(uuid, text, bytea, interval) from public;
revoke all on function private.complete_idempotent_request(uuid, text, uuid, int, text, text) from public;
revoke all on function private.release_idempotent_request(uuid, text, uuid) from public;

-- Expired keys are deleted hourly.
select private.schedule_job('purge-idempotent-requests', '23 * * * *',
  $q$delete from private.idempotent_requests where created_at < now() - private.idempotency_retention()$q$);
