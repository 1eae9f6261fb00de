-- The small LANGUAGE sql functions a money command calls, in PL/pgSQL with the same bodies and answers.
-- None of them can be inlined (each reads a table or writes one), so Postgres ran them as SQL functions,
-- which plan their query again in every transaction that calls them; PL/pgSQL keeps each plan for the
-- session. Profiled on POST /withdrawals' command (pgbench calling money.request_withdrawal, 8 clients,
-- track_functions = all): notify.enqueue 1.53 ms self per call, money.withdrawal_json 0.97 ms,
-- money.lock_users 0.45 ms, kyc.is_approved, money.is_frozen and private.email_verified 0.13–0.14 ms
-- each, money.settings 0.09 ms, of 9.3 ms for the whole command (load average ≈ 10 on 2 cores).
-- Privileges are kept: CREATE OR REPLACE leaves a function's grants as they were.

create or replace function notify.enqueue(
  p_dedupe_key text, p_kind text, p_user_id uuid, p_variables jsonb, p_event_position bigint default null
) returns uuid
language plpgsql as $$
declare
  v_id uuid;
begin
  insert into notify.outbox (dedupe_key, kind, user_id, variables, event_position)
  values (p_dedupe_key, p_kind, p_user_id, p_variables, p_event_position)
  on conflict (dedupe_key) do nothing
  returning id into v_id;
  return v_id;
end;
$$;

create or replace function money.withdrawal_json(p_withdrawal_id uuid) returns jsonb
language plpgsql stable as $$
begin
  return (
    select jsonb_build_object('id', withdrawal_id, 'amountMinor', amount_minor, 'currency', currency, 'status', status,
      'requestedAt', money.rfc3339(requested_at), 'decidedAt', money.rfc3339(decided_at), 'reference', reference)
    from public.withdrawals where withdrawal_id = p_withdrawal_id);
end;
$$;

create or replace function money.lock_users(p_user_ids uuid[]) returns void
language plpgsql as $$
begin
  perform pg_advisory_xact_lock_shared(hashtextextended('accrue:earnings', 0));
  perform 1 from public.users where user_id = any(p_user_ids) order by user_id for update;
end;
$$;

create or replace function kyc.is_approved(p_user_id uuid) returns boolean
language plpgsql stable as $$
begin
  return coalesce((select kyc_status = 'approved' from public.users where user_id = p_user_id), false);
end;
$$;

create or replace function money.is_frozen(p_user_id uuid) returns boolean
language plpgsql stable as $$
begin
  return exists (select from money.frozen_accounts where user_id = p_user_id);
end;
$$;

create or replace function private.email_verified(p_user_id uuid) returns boolean
language plpgsql stable as $$
begin
  return exists (select from private.verified_emails where user_id = p_user_id);
end;
$$;

create or replace function money.settings() returns money.settings
language plpgsql stable as $$
begin
  return (select s from money.settings s limit 1);
end;
$$;
