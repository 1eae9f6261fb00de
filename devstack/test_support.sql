-- Local-only helpers for tests and benchmarks (./dev test and ./dev bench load them; never a migration).
-- They go through the same commands and events as production code, skipping only what a test of
-- money does not need (passwords, Stripe's signature).
create schema if not exists test_support;

create or replace function test_support.referral_code() returns text
language sql volatile as $$
  select string_agg(substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + floor(random() * 30)::int, 1), '')
  from generate_series(1, 8)
$$;

-- A registered user (UserRegistered, as signup appends it), under p_referrer_id.
create or replace function test_support.register(p_referrer_id uuid default null) returns uuid
language plpgsql as $$
declare
  v_user_id uuid := gen_random_uuid();
begin
  perform event_store.append_events('user-' || v_user_id, 'no_stream', jsonb_build_array(jsonb_build_object(
    'type', 'UserRegistered',
    'data', jsonb_build_object('userId', v_user_id, 'referrerId', p_referrer_id, 'referralCode', test_support.referral_code()))));
  return v_user_id;
end;
$$;

-- A chain of n users, each referred by the previous one: element 1 is the root, element n the deepest.
create or replace function test_support.chain(n int, p_root_referrer uuid default null) returns uuid[]
language plpgsql as $$
declare
  v_ids uuid[] := '{}';
  v_last uuid := p_root_referrer;
begin
  for i in 1..n loop
    v_last := test_support.register(v_last);
    v_ids := v_ids || v_last;
  end loop;
  return v_ids;
end;
$$;

-- The one admin test helpers act as (admin commands check their actor's role in the database): made on
-- first use, with credentials, under a lock so concurrent first uses make one.
create or replace function test_support.admin() returns uuid
language plpgsql as $$
declare
  v_email constant text := 'test-support-admin@example.test';
  v_id uuid;
begin
  perform pg_advisory_xact_lock(hashtext('test_support.admin'));
  select user_id into v_id from private.profiles where email = v_email;
  if v_id is null then
    v_id := gen_random_uuid();
    perform private.register_user(v_id, v_email, '$scrypt$x', test_support.referral_code(), null,
      gen_random_uuid(), md5(v_id::text) || md5(v_id::text), 60);
  end if;
  perform private.promote_to_admin(v_email);
  return v_id;
end;
$$;

-- Event metadata naming that admin as the actor: the last argument of money.publish_package,
-- money.retire_package (test_support.retire) and money.decide_withdrawal.
create or replace function test_support.as_admin() returns jsonb
language sql as $$ select jsonb_build_object('actorId', test_support.admin()) $$;

create or replace function test_support.retire(p_package_id uuid) returns jsonb
language sql as $$ select money.retire_package(p_package_id, test_support.as_admin()) $$;

create or replace function test_support.package(p_price_minor bigint default 10000, p_daily_rate_bps int default 100,
  p_duration_days int default 30) returns uuid
language plpgsql as $$
declare
  v_id uuid := gen_random_uuid();
begin
  perform money.publish_package(v_id, 'Test package', p_price_minor, (money.settings()).currency, p_daily_rate_bps,
    p_duration_days, test_support.as_admin());
  return v_id;
end;
$$;

-- Start a checkout and complete it as a verified Stripe webhook would. Returns the purchase id.
create or replace function test_support.buy(p_user_id uuid, p_package_id uuid, p_now timestamptz default null) returns uuid
language plpgsql as $$
declare
  v_purchase_id uuid := gen_random_uuid();
  v_package public.packages;
begin
  select * into v_package from public.packages where package_id = p_package_id;
  perform money.start_checkout(v_purchase_id, p_user_id, p_package_id, 'cs_test_' || v_purchase_id);
  perform money.complete_purchase(v_purchase_id, 'pi_test_' || v_purchase_id, v_package.price_minor, v_package.currency,
    '{}'::jsonb, p_now);
  return v_purchase_id;
end;
$$;

-- Put a user at a VIP level directly (as if their volumes had qualified them).
create or replace function test_support.set_vip(p_user_id uuid, p_vip_level int) returns void
language plpgsql as $$
begin
  perform event_store.append_events('user-' || p_user_id, 'stream_exists', jsonb_build_array(jsonb_build_object(
    'type', 'VipLevelChanged',
    'data', jsonb_build_object('userId', p_user_id, 'fromLevel', (select vip_level from public.users where user_id = p_user_id),
      'toLevel', p_vip_level))));
end;
$$;

-- Ledger invariants: every event's entries sum to zero, and user balances equal the sum of their entries.
create or replace function test_support.ledger_violations() returns setof text
language sql stable as $$
  select format('event %s sums to %s', event_position, sum(amount_minor))
  from public.ledger_entries group by event_position, currency having sum(amount_minor) <> 0
  union all
  select format('user %s %s balance %s but entries sum to %s', a.user_id, k.kind, k.balance, coalesce(e.total, 0))
  from public.user_accounts a
  cross join lateral (values ('available', a.available_minor), ('pending', a.pending_minor),
                             ('in_transit', a.in_transit_minor), ('owed', a.owed_minor),
                             ('held', a.held_minor)) as k(kind, balance)
  left join lateral (select sum(amount_minor) as total from public.ledger_entries
                     where user_id = a.user_id and account = 'user:' || k.kind) e on true
  where k.balance <> coalesce(e.total, 0)
$$;

-- EmailVerified for the user, as POST /auth/verify-email appends it (once).
create or replace function test_support.verify_email(p_user_id uuid) returns void
language plpgsql as $$
begin
  if exists (select from private.verified_emails where user_id = p_user_id) then return; end if;
  perform event_store.append_events('user-' || p_user_id, 'any', jsonb_build_array(jsonb_build_object(
    'type', 'EmailVerified', 'data', jsonb_build_object('userId', p_user_id))));
end;
$$;

-- An approved KYC case for the user (KycSubmitted then KycApproved, as the kyc commands append them).
-- Returns the case id.
create or replace function test_support.approve_kyc(p_user_id uuid) returns uuid
language plpgsql as $$
declare
  v_case_id uuid := gen_random_uuid();
  v_admin_id uuid := gen_random_uuid();
begin
  perform event_store.append_events('kyc-' || v_case_id, 'no_stream', jsonb_build_array(
    jsonb_build_object('type', 'KycSubmitted', 'data', jsonb_build_object('caseId', v_case_id, 'userId', p_user_id,
      'documents', jsonb_build_array(jsonb_build_object('documentId', gen_random_uuid(), 'sha256', repeat('a', 64))))),
    jsonb_build_object('type', 'KycApproved', 'data', jsonb_build_object('caseId', v_case_id, 'userId', p_user_id,
      'adminId', v_admin_id))));
  -- Withdrawals also need a verified address: a user approved here for withdrawing has one.
  perform test_support.verify_email(p_user_id);
  return v_case_id;
end;
$$;

create or replace function test_support.revoke_kyc(p_case_id uuid) returns void
language plpgsql as $$
begin
  perform event_store.append_events('kyc-' || p_case_id, 'stream_exists', jsonb_build_array(jsonb_build_object(
    'type', 'KycApprovalRevoked', 'data', jsonb_build_object('caseId', p_case_id,
      'userId', (select user_id from public.kyc_cases where case_id = p_case_id), 'adminId', gen_random_uuid(), 'final', false))));
end;
$$;

-- Credits a user's available balance as a released commission would (a purchase under them by a
-- fresh buyer, released at once). Returns the amount credited.
create or replace function test_support.fund(p_user_id uuid, p_price_minor bigint default 100000) returns bigint
language plpgsql as $$
declare
  v_buyer uuid := test_support.register(p_user_id);
  v_before bigint := (select available_minor from public.user_accounts where user_id = p_user_id);
begin
  if (select vip_level from public.users where user_id = p_user_id) < 1 then
    perform test_support.set_vip(p_user_id, 1);
  end if;
  perform test_support.buy(v_buyer, test_support.package(p_price_minor, 100, 30));
  perform money.release_due_commissions(now() + interval '1 year', 50000);
  return (select available_minor from public.user_accounts where user_id = p_user_id) - v_before;
end;
$$;

-- KYC through its commands: a registered user with credentials (an admin when asked), a submission with
-- one document, an admin's decision at the case's current version.
create or replace function test_support.kyc_user(p_admin boolean default false) returns uuid language plpgsql as $f$
declare v uuid := gen_random_uuid();
begin
  perform private.register_user(v, 'kyc-' || v || '@example.test', '$scrypt$x', test_support.referral_code(), null,
    gen_random_uuid(), md5(v::text) || md5(v::text), 60);
  if p_admin then perform private.promote_to_admin('kyc-' || v || '@example.test'); end if;
  return v;
end $f$;
create or replace function test_support.kyc_submit(p_user uuid, p_case uuid default gen_random_uuid()) returns jsonb language sql as $f$
  select kyc.submit_case(
    jsonb_build_object('type', 'KycSubmitted', 'schemaVersion', 1, 'data', jsonb_build_object('caseId', p_case,
      'userId', p_user, 'documents', jsonb_build_array(jsonb_build_object('documentId', d, 'sha256', repeat('a', 64))))),
    '{"fullName": "Ann Lee", "dateOfBirth": "1990-01-01", "country": "DE"}',
    jsonb_build_array(jsonb_build_object('documentId', d, 'sha256', repeat('a', 64), 'contentType', 'image/png',
      'sizeBytes', 10, 'storageKey', p_user || '/' || p_case || '/' || d)))
  from (select gen_random_uuid() as d) x
$f$;
create or replace function test_support.kyc_decide(p_case uuid, p_admin uuid, p_type text, p_final boolean default false) returns jsonb
language sql as $f$
  select kyc.record_decision(jsonb_build_object('type', p_type, 'schemaVersion', 1, 'data',
      jsonb_build_object('caseId', c.case_id, 'userId', c.user_id, 'adminId', p_admin)
      || case when p_type in ('KycRejected', 'KycApprovalRevoked') then jsonb_build_object('final', p_final) else '{}' end),
    c.version, 'A reason for the user', 'An internal note')
  from public.kyc_cases c where c.case_id = p_case
$f$;

-- Freeze or unfreeze an account as an admin would (reason codes from money.account_control_reasons).
create or replace function test_support.freeze(p_user_id uuid, p_reason text default 'fraud_suspected') returns jsonb
language sql as $$ select money.set_account_frozen(p_user_id, test_support.admin(), 'freeze', p_reason) $$;
create or replace function test_support.unfreeze(p_user_id uuid, p_reason text default 'review_cleared') returns jsonb
language sql as $$ select money.set_account_frozen(p_user_id, test_support.admin(), 'unfreeze', p_reason) $$;
