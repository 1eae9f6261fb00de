-- Password reset, email verification and password change (issue 9). Emailed tokens are random (256 bits),
-- stored only as SHA-256, single use, with an expiry; the mail that carries one is queued in the same
-- transaction that stores its hash. EmailVerified and PasswordChanged are events (user id and a reason
-- code only); whether an address is verified is their projection.

create table private.email_tokens (
  token_sha256 text primary key,
  user_id uuid not null references private.profiles (user_id) on delete cascade,
  purpose text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  -- Set when the token is used, or when a newer token of the same purpose replaces it.
  used_at timestamptz,
  constraint email_tokens_sha256_format check (token_sha256 ~ '^[0-9a-f]{64}$'),
  constraint email_tokens_purpose_check check (purpose in ('password_reset', 'email_verification')),
  constraint email_tokens_expiry_after_creation check (expires_at > created_at)
);
comment on table private.email_tokens is 'Emailed single-use tokens (password reset, email verification) by SHA-256; used_at set on use or replacement.';
create index email_tokens_user_id_idx on private.email_tokens (user_id, purpose) where used_at is null;

-- Verified addresses: the projection of EmailVerified.
create table private.verified_emails (
  user_id uuid primary key,
  verified_at timestamptz not null
);
comment on table private.verified_emails is 'Users whose address is verified (projection of EmailVerified).';
select projections.register_table('private.verified_emails');

create function projections.project_email_verified(e event_store.events) returns void
language sql as $$
  insert into private.verified_emails (user_id, verified_at) values ((e.data->>'userId')::uuid, e.recorded_at)
  on conflict (user_id) do nothing
$$;
insert into projections.handlers (event_type, handler, priority)
values ('EmailVerified', 'projections.project_email_verified(event_store.events)'::regprocedure, 10);

create function private.email_verified(p_user_id uuid) returns boolean
language sql stable as $$
  select exists (select from private.verified_emails where user_id = p_user_id)
$$;

-- A password reset or change ends every session (or every other one).
alter table private.refresh_token_families drop constraint refresh_token_families_reason_check;
alter table private.refresh_token_families add constraint refresh_token_families_reason_check
  check (revoked_reason in ('logout', 'reuse', 'operator', 'password_reset', 'password_change'));

-- The mails these commands and events cause: PasswordChanged mails its owner.
create or replace function notify.enqueue_for_event(e event_store.events) returns void
language plpgsql as $$
declare
  v_user uuid;
  v_kind text;
  v_vars jsonb;
  w record;
  d record;
begin
  if e.transaction_id is distinct from pg_current_xact_id_if_assigned() then return; end if;
  case e.type
    when 'Purchased' then
      v_user := (e.data->>'userId')::uuid;
      v_kind := 'purchase_receipt';
      v_vars := jsonb_build_object(
        'packageName', coalesce((select name from public.packages where package_id = (e.data->>'packageId')::uuid), 'package'),
        'amount', notify.format_money((e.data->>'amountMinor')::bigint, e.data->>'currency'),
        'purchaseId', e.data->>'purchaseId',
        'startsAt', notify.format_time((e.data->>'startsAt')::timestamptz),
        'endsAt', notify.format_time((e.data->>'endsAt')::timestamptz));
    when 'KycApproved' then
      v_user := (e.data->>'userId')::uuid;
      v_kind := 'kyc_approved';
      v_vars := '{}'::jsonb;
    when 'KycRejected', 'KycResubmissionRequested' then
      v_user := (e.data->>'userId')::uuid;
      v_kind := case e.type when 'KycRejected' then 'kyc_rejected' else 'kyc_resubmission_requested' end;
      select reason into d from private.kyc_decisions
      where case_id = (e.data->>'caseId')::uuid and case_version = e.stream_version;
      v_vars := jsonb_build_object('reason', coalesce(nullif(btrim(d.reason), ''), 'No reason was given.'));
      if e.type = 'KycRejected' then
        v_vars := v_vars || jsonb_build_object('nextStep', case when (e.data->>'final')::boolean
          then 'This decision is final.' else 'You may submit new documents in the app.' end);
      end if;
    when 'WithdrawalRequested', 'WithdrawalRejected', 'WithdrawalPaid' then
      select * into w from public.withdrawals where withdrawal_id = (e.data->>'withdrawalId')::uuid;
      if not found then return; end if;
      v_user := w.user_id;
      v_kind := case e.type when 'WithdrawalRequested' then 'withdrawal_requested'
                            when 'WithdrawalRejected' then 'withdrawal_rejected' else 'withdrawal_paid' end;
      v_vars := jsonb_build_object('amount', notify.format_money(w.amount_minor, w.currency),
                                   'withdrawalId', w.withdrawal_id);
      if e.type = 'WithdrawalPaid' then
        v_vars := v_vars || jsonb_build_object('paymentReference', coalesce(e.data->>'reference', ''));
      end if;
    when 'PasswordChanged' then
      v_user := (e.data->>'userId')::uuid;
      v_kind := 'password_changed';
      v_vars := '{}'::jsonb;
    else
      return;
  end case;
  perform notify.enqueue(e.position || ':' || v_kind, v_kind, v_user, v_vars, e.position);
end;
$$;
insert into projections.handlers (event_type, handler, priority)
values ('PasswordChanged', 'notify.enqueue_for_event(event_store.events)'::regprocedure, 200);

-- Store a new emailed token (the previous unused ones of that purpose stop working) and queue its mail.
create function private.issue_email_token(
  p_user_id uuid, p_purpose text, p_token_sha256 text, p_token text, p_ttl_seconds int
) returns void
language plpgsql as $$
begin
  update private.email_tokens set used_at = now()
  where user_id = p_user_id and purpose = p_purpose and used_at is null;
  insert into private.email_tokens (token_sha256, user_id, purpose, expires_at)
  values (p_token_sha256, p_user_id, p_purpose, now() + make_interval(secs => p_ttl_seconds));
  -- The token travels in the outbox row until the mail is sent (then it is dropped from the row).
  perform notify.enqueue(p_purpose || ':' || p_token_sha256, p_purpose, p_user_id, jsonb_build_object('token', p_token));
end;
$$;

-- POST /auth/password-reset: for a known address, a reset token and its mail; for an unknown one,
-- nothing at all (not even a row). The caller answers 202 either way.
create function private.request_password_reset(
  p_email text, p_token_sha256 text, p_token text, p_ttl_seconds int
) returns boolean
language plpgsql as $$
declare
  v_user_id uuid;
begin
  select user_id into v_user_id from private.profiles where email = p_email;
  if v_user_id is null then return false; end if;
  perform private.issue_email_token(v_user_id, 'password_reset', p_token_sha256, p_token, p_ttl_seconds);
  return true;
end;
$$;

-- Use a token once: the token row locked, so two requests with one token cannot both succeed.
-- AU400 for an unknown, used, expired or other-purpose token.
create function private.use_email_token(p_token_sha256 text, p_purpose text) returns uuid
language plpgsql as $$
declare
  t private.email_tokens;
begin
  select * into t from private.email_tokens where token_sha256 = p_token_sha256 for update;
  if not found or t.purpose <> p_purpose or t.used_at is not null or t.expires_at <= now() then
    raise exception 'invalid_token' using errcode = 'AU400';
  end if;
  update private.email_tokens set used_at = now() where token_sha256 = p_token_sha256;
  return t.user_id;
end;
$$;

-- POST /auth/password-reset/confirm: set the password, end every session, PasswordChanged (which mails
-- the owner). Other outstanding reset links stop working too.
create function private.confirm_password_reset(p_token_sha256 text, p_password_hash text, p_metadata jsonb default '{}'::jsonb)
returns uuid
language plpgsql as $$
declare
  v_user_id uuid := private.use_email_token(p_token_sha256, 'password_reset');
begin
  update private.email_tokens set used_at = now() where user_id = v_user_id and purpose = 'password_reset' and used_at is null;
  update private.credentials set password_hash = p_password_hash, password_changed_at = now() where user_id = v_user_id;
  update private.refresh_token_families set revoked_at = now(), revoked_reason = 'password_reset'
  where user_id = v_user_id and revoked_at is null;
  perform event_store.append_events('user-' || v_user_id, 'any', jsonb_build_array(jsonb_build_object(
    'type', 'PasswordChanged', 'data', jsonb_build_object('userId', v_user_id, 'reason', 'reset'))),
    coalesce(p_metadata, '{}'::jsonb) || jsonb_build_object('actorId', v_user_id));
  return v_user_id;
end;
$$;

-- POST /auth/password: the caller checked the current password; every other session ends.
create function private.change_password(
  p_user_id uuid, p_password_hash text, p_keep_family_id uuid, p_metadata jsonb default '{}'::jsonb
) returns void
language plpgsql as $$
begin
  update private.credentials set password_hash = p_password_hash, password_changed_at = now() where user_id = p_user_id;
  if not found then raise exception 'unknown user' using errcode = 'AU404'; end if;
  update private.refresh_token_families set revoked_at = now(), revoked_reason = 'password_change'
  where user_id = p_user_id and revoked_at is null and family_id <> p_keep_family_id;
  -- Reset links mailed before the change must not undo it.
  update private.email_tokens set used_at = now() where user_id = p_user_id and purpose = 'password_reset' and used_at is null;
  perform event_store.append_events('user-' || p_user_id, 'any', jsonb_build_array(jsonb_build_object(
    'type', 'PasswordChanged', 'data', jsonb_build_object('userId', p_user_id, 'reason', 'change'))),
    coalesce(p_metadata, '{}'::jsonb) || jsonb_build_object('actorId', p_user_id));
end;
$$;

-- POST /auth/verify-email/resend and signup: a new verification link (the old one stops working).
-- Returns false, sending nothing, when the address is already verified.
create function private.request_email_verification(
  p_user_id uuid, p_token_sha256 text, p_token text, p_ttl_seconds int
) returns boolean
language plpgsql as $$
begin
  if private.email_verified(p_user_id) then return false; end if;
  perform private.issue_email_token(p_user_id, 'email_verification', p_token_sha256, p_token, p_ttl_seconds);
  return true;
end;
$$;

-- POST /auth/verify-email: EmailVerified once (a second verification of a verified address appends nothing).
create function private.verify_email(p_token_sha256 text, p_metadata jsonb default '{}'::jsonb) returns uuid
language plpgsql as $$
declare
  v_user_id uuid := private.use_email_token(p_token_sha256, 'email_verification');
begin
  -- Serialise with a concurrent verification of the same user (two links in flight).
  perform pg_advisory_xact_lock(hashtextextended('email-verified:' || v_user_id, 0));
  if not private.email_verified(v_user_id) then
    perform event_store.append_events('user-' || v_user_id, 'any', jsonb_build_array(jsonb_build_object(
      'type', 'EmailVerified', 'data', jsonb_build_object('userId', v_user_id))),
      coalesce(p_metadata, '{}'::jsonb) || jsonb_build_object('actorId', v_user_id));
  end if;
  return v_user_id;
end;
$$;

-- The account as the API shows it, now with emailVerified and emailDeliverable (not suppressed).
create or replace function private.account_json(p_user_id uuid) returns jsonb
language sql stable as $$
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
  where u.user_id = p_user_id;
$$;

-- Withdrawals need a verified address (MO405, 403 email_unverified): checked under the user's lock, in
-- the debit's transaction, after the KYC check and before the balance check. Otherwise the definition of
-- 20261202010300_hold_withdrawals_of_debtors.sql, every check kept.
create or replace function money.request_withdrawal(
  p_withdrawal_id uuid, p_user_id uuid, p_amount_minor bigint, p_currency text, p_destination text,
  p_metadata jsonb default '{}'::jsonb
) returns jsonb
language plpgsql as $$
declare
  v_settings money.settings := money.settings();
  v_account public.user_accounts;
begin
  if upper(p_currency) <> v_settings.currency then
    raise exception 'withdrawals are in %', v_settings.currency using errcode = 'MO422';
  end if;
  if p_amount_minor < v_settings.withdrawal_min_minor then
    raise exception 'the minimum withdrawal is % minor units', v_settings.withdrawal_min_minor using errcode = 'MO422';
  end if;
  perform money.lock_users(array[p_user_id]);
  -- The same id again (an Idempotency-Key retry whose first attempt committed): its result, once.
  if exists (select from public.withdrawals where withdrawal_id = p_withdrawal_id and user_id = p_user_id) then
    return money.withdrawal_json(p_withdrawal_id);
  end if;
  if not kyc.is_approved(p_user_id) then
    raise exception 'an approved KYC case is required' using errcode = 'MO403';
  end if;
  if not private.email_verified(p_user_id) then
    raise exception 'a verified email address is required' using errcode = 'MO405';
  end if;
  select * into v_account from public.user_accounts where user_id = p_user_id;
  if coalesce(v_account.owed_minor, 0) < 0 then
    raise exception 'the account owes %', -v_account.owed_minor using errcode = 'MO423';
  end if;
  if coalesce(v_account.available_minor, 0) < p_amount_minor then
    raise exception 'available % is less than %', coalesce(v_account.available_minor, 0), p_amount_minor using errcode = 'MO402';
  end if;
  insert into private.withdrawal_destinations (withdrawal_id, destination) values (p_withdrawal_id, p_destination);
  perform event_store.append_events('withdrawal-' || p_withdrawal_id, 'no_stream', jsonb_build_array(jsonb_build_object(
    'type', 'WithdrawalRequested',
    'data', jsonb_build_object('withdrawalId', p_withdrawal_id, 'userId', p_user_id, 'amountMinor', p_amount_minor,
      'currency', v_settings.currency))), coalesce(p_metadata, '{}'::jsonb) || jsonb_build_object('actorId', p_user_id));
  return money.withdrawal_json(p_withdrawal_id);
end;
$$;
