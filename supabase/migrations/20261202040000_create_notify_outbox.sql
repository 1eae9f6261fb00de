-- Transactional email through an outbox (DESIGN.md §9). The row that says "send this mail" commits in the
-- same transaction as the fact that causes it: projection handlers (run in the appending transaction)
-- insert it, keyed by `<event position>:<kind>` under a UNIQUE constraint. The `email` function drains the
-- outbox (notify.claim_mails: FOR UPDATE SKIP LOCKED with a lease), sends through Resend with the outbox id
-- as Idempotency-Key, and records the outcome (notify.record_mail_results).
create schema if not exists notify;
comment on schema notify is 'Transactional email: kinds, templates, the outbox, preferences and the suppression list.';
revoke all on schema notify from public;

-- What each kind of mail is. security, money and operations mails are always sent; optional ones follow
-- the user's preference named in `preference` (a column of notify.preferences).
create table notify.kinds (
  kind text primary key,
  category text not null,
  preference text,
  description text not null,
  constraint kinds_category_check check (category in ('security', 'money', 'operations', 'optional')),
  constraint kinds_optional_has_preference check ((category = 'optional') = (preference is not null)),
  constraint kinds_kind_format check (kind ~ '^[a-z][a-z0-9_]{1,49}$')
);
comment on table notify.kinds is 'Mail kinds: category (security, money and operations mails cannot be turned off; optional ones follow notify.preferences).';

-- Templates are data (edit them in Studio). {{name}} is replaced by the variable, HTML-escaped in html_body;
-- a variable the template names but the mail lacks is an error at render time, never an empty string.
create table notify.templates (
  kind text not null references notify.kinds (kind),
  locale text not null default 'en',
  subject text not null,
  text_body text not null,
  html_body text not null,
  updated_at timestamptz not null default now(),
  constraint templates_pkey primary key (kind, locale),
  constraint templates_locale_format check (locale ~ '^[a-z]{2}(-[A-Z]{2})?$'),
  constraint templates_subject_length check (length(subject) between 1 and 200)
);
comment on table notify.templates is 'Subject, text and HTML per mail kind and locale. {{variable}} placeholders; every mail also has {{appUrl}} and, when optional, {{unsubscribeUrl}}. Falls back to locale en.';

create table notify.outbox (
  id uuid primary key default gen_random_uuid(),
  -- `<event position>:<kind>` for mails an event causes; `<kind>:<id>` for the others.
  dedupe_key text not null,
  kind text not null references notify.kinds (kind),
  user_id uuid not null,
  locale text not null default 'en',
  -- Render inputs. A secret (an emailed token) is removed once the mail is sent or dead.
  variables jsonb not null default '{}'::jsonb,
  status text not null default 'queued',
  attempts int not null default 0,
  -- When the row may next be claimed: a retry's backoff, or while `sending`, the end of the lease.
  next_attempt_at timestamptz not null default now(),
  last_error text,
  provider_message_id text,
  event_position bigint,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  constraint outbox_dedupe_key_key unique (dedupe_key),
  constraint outbox_status_check check (status in ('queued', 'sending', 'sent', 'dead', 'suppressed', 'skipped')),
  constraint outbox_variables_is_object check (jsonb_typeof(variables) = 'object'),
  constraint outbox_attempts_non_negative check (attempts >= 0)
);
comment on table notify.outbox is 'Mails to send, committed with their cause. queued/sending are due at next_attempt_at; sent, dead (re-drive with notify.redrive_mails), suppressed (address on the suppression list) and skipped (no address, or an optional mail the user turned off) are final.';
create index outbox_due_idx on notify.outbox (next_attempt_at) where status in ('queued', 'sending');
create index outbox_status_idx on notify.outbox (status) where status in ('dead', 'queued', 'sending');

-- Optional mails a user turned off (a row only once they change something: no row means the defaults).
create table notify.preferences (
  user_id uuid primary key,
  commission_digest boolean not null default true,
  updated_at timestamptz not null default now()
);
comment on table notify.preferences is 'Per-user switches for optional mails (GET/PUT /account/notifications, one-click unsubscribe).';

-- Addresses nothing is sent to again: hard bounces and complaints reported by the provider.
create table notify.suppressions (
  email text primary key,
  reason text not null,
  provider_event_id text,
  created_at timestamptz not null default now(),
  constraint suppressions_reason_check check (reason in ('bounce', 'complaint', 'manual'))
);
comment on table notify.suppressions is 'Suppressed addresses (hard bounce, complaint, or by hand): no mail is sent to them.';

insert into notify.kinds (kind, category, preference, description) values
  ('purchase_receipt', 'money', null, 'A purchase was paid: amount, package, contract dates.'),
  ('kyc_approved', 'security', null, 'The identity verification was approved.'),
  ('kyc_rejected', 'security', null, 'The identity verification was rejected (with the reason the admin shared).'),
  ('kyc_resubmission_requested', 'security', null, 'The identity verification needs new documents.'),
  ('withdrawal_requested', 'money', null, 'A withdrawal was requested.'),
  ('withdrawal_rejected', 'money', null, 'A withdrawal was rejected; the amount is back in the balance.'),
  ('withdrawal_paid', 'money', null, 'A withdrawal was paid out.'),
  ('password_reset', 'security', null, 'A password reset link (30 minutes, single use).'),
  ('email_verification', 'security', null, 'A link that verifies the address.'),
  ('password_changed', 'security', null, 'The password was changed.'),
  ('commission_digest', 'optional', 'commission_digest', 'Commissions released in the last day (at most one a day).'),
  ('admin_alert', 'operations', null, 'An operations alert fired or resolved (to every admin).');

insert into notify.templates (kind, locale, subject, text_body, html_body) values
  ('purchase_receipt', 'en', 'Your receipt: {{packageName}}',
   E'Thank you for your purchase.\n\nPackage: {{packageName}}\nAmount: {{amount}}\nPurchase: {{purchaseId}}\nYour contract runs from {{startsAt}} to {{endsAt}}.\n',
   '<p>Thank you for your purchase.</p><table><tr><td>Package</td><td>{{packageName}}</td></tr><tr><td>Amount</td><td>{{amount}}</td></tr><tr><td>Purchase</td><td>{{purchaseId}}</td></tr></table><p>Your contract runs from {{startsAt}} to {{endsAt}}.</p>'),
  ('kyc_approved', 'en', 'Your identity is verified',
   E'Your identity verification was approved. You can now request withdrawals.\n',
   '<p>Your identity verification was approved. You can now request withdrawals.</p>'),
  ('kyc_rejected', 'en', 'Your identity verification was not approved',
   E'Your identity verification was not approved.\nReason: {{reason}}\n{{nextStep}}\n',
   '<p>Your identity verification was not approved.</p><p>Reason: {{reason}}</p><p>{{nextStep}}</p>'),
  ('kyc_resubmission_requested', 'en', 'Please send new identity documents',
   E'We need new documents to verify your identity.\nReason: {{reason}}\nSubmit them in the app: {{appUrl}}/kyc\n',
   '<p>We need new documents to verify your identity.</p><p>Reason: {{reason}}</p><p><a href="{{appUrl}}/kyc">Submit them in the app</a></p>'),
  ('withdrawal_requested', 'en', 'Withdrawal requested: {{amount}}',
   E'We received your withdrawal request of {{amount}} (reference {{withdrawalId}}). We will tell you when it is paid.\n',
   '<p>We received your withdrawal request of {{amount}} (reference {{withdrawalId}}). We will tell you when it is paid.</p>'),
  ('withdrawal_rejected', 'en', 'Withdrawal rejected: {{amount}}',
   E'Your withdrawal of {{amount}} (reference {{withdrawalId}}) was rejected. The amount is back in your available balance.\n',
   '<p>Your withdrawal of {{amount}} (reference {{withdrawalId}}) was rejected. The amount is back in your available balance.</p>'),
  ('withdrawal_paid', 'en', 'Withdrawal paid: {{amount}}',
   E'Your withdrawal of {{amount}} (reference {{withdrawalId}}) was paid. Payment reference: {{paymentReference}}.\n',
   '<p>Your withdrawal of {{amount}} (reference {{withdrawalId}}) was paid. Payment reference: {{paymentReference}}.</p>'),
  ('password_reset', 'en', 'Reset your password',
   E'Someone asked to reset the password of your account. If it was you, open this link within 30 minutes:\n{{appUrl}}/reset-password?token={{token}}\nIf it was not you, ignore this mail; your password stays as it is.\n',
   '<p>Someone asked to reset the password of your account. If it was you, open this link within 30 minutes:</p><p><a href="{{appUrl}}/reset-password?token={{token}}">Reset your password</a></p><p>If it was not you, ignore this mail; your password stays as it is.</p>'),
  ('email_verification', 'en', 'Verify your email address',
   E'Please verify your email address by opening this link:\n{{appUrl}}/verify-email?token={{token}}\n',
   '<p>Please verify your email address:</p><p><a href="{{appUrl}}/verify-email?token={{token}}">Verify my address</a></p>'),
  ('password_changed', 'en', 'Your password was changed',
   E'The password of your account was changed and your other sessions were signed out. If this was not you, reset your password now: {{appUrl}}/forgot-password\n',
   '<p>The password of your account was changed and your other sessions were signed out.</p><p>If this was not you, <a href="{{appUrl}}/forgot-password">reset your password now</a>.</p>'),
  ('commission_digest', 'en', 'Your commissions: {{amount}} released',
   E'{{count}} commission(s) totalling {{amount}} were released to your available balance on {{day}}.\n\nDo not want these mails? {{unsubscribeUrl}}\n',
   '<p>{{count}} commission(s) totalling {{amount}} were released to your available balance on {{day}}.</p><p><a href="{{unsubscribeUrl}}">Unsubscribe from commission digests</a></p>'),
  ('admin_alert', 'en', '[{{severity}}] {{title}} {{state}}',
   E'Alert: {{title}}\nSeverity: {{severity}}\nState: {{state}}\n\n{{detail}}\n',
   '<p>Alert: {{title}}</p><p>Severity: {{severity}}<br>State: {{state}}</p><p>{{detail}}</p>');

-- Amounts as people read them: minor units over 100 (the platform currency has two decimals).
create function notify.format_money(p_amount_minor bigint, p_currency text) returns text
language sql immutable as $$
  select to_char(p_amount_minor / 100.0, 'FM999,999,999,999,990.00') || ' ' || p_currency
$$;

create function notify.format_time(p_at timestamptz) returns text
language sql immutable as $$
  select to_char(p_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')
$$;

-- Queue one mail; a second call with the same dedupe key is a no-op. Returns the outbox id (null when
-- it was already queued).
create function notify.enqueue(
  p_dedupe_key text, p_kind text, p_user_id uuid, p_variables jsonb, p_event_position bigint default null
) returns uuid
language sql as $$
  insert into notify.outbox (dedupe_key, kind, user_id, variables, event_position)
  values (p_dedupe_key, p_kind, p_user_id, p_variables, p_event_position)
  on conflict (dedupe_key) do nothing
  returning id
$$;

-- The projection handler that turns events into mails. It enqueues only for events appended by the
-- running transaction: projections.rebuild() replays events of older transactions through the same
-- handlers, and a rebuild must never mail anyone again (the UNIQUE dedupe key is the second belt, for
-- mails still in the outbox).
create function notify.enqueue_for_event(e event_store.events) returns void
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
      -- The reason the admin chose to share (private.kyc_decisions, written before the event).
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
    else
      return;
  end case;
  perform notify.enqueue(e.position || ':' || v_kind, v_kind, v_user, v_vars, e.position);
end;
$$;
comment on function notify.enqueue_for_event(event_store.events) is 'Projection handler: queue the mail an event causes, only when the event was appended by this transaction (never during a rebuild).';

-- After the read models (priority 10-50), so a withdrawal's row exists when its mail is queued.
insert into projections.handlers (event_type, handler, priority)
select t, 'notify.enqueue_for_event(event_store.events)'::regprocedure, 200
from unnest(array['Purchased', 'KycApproved', 'KycRejected', 'KycResubmissionRequested',
                  'WithdrawalRequested', 'WithdrawalRejected', 'WithdrawalPaid']) as t;

-- Claim up to p_limit due mails for one drainer: rows nobody else holds (SKIP LOCKED), leased for
-- p_lease_seconds (a drainer that dies mid-send leaves the row to be claimed again when the lease ends;
-- Resend's Idempotency-Key = outbox id makes that retry a replay, not a second mail). Rows that need no
-- sending are settled here: no address (user erased or never had one) or an optional mail turned off
-- -> skipped; a suppressed address -> suppressed; out of attempts (leases that kept expiring) -> dead.
-- Returns what the sender renders: id, kind, category, preference, address, locale, variables, the template.
create function notify.claim_mails(p_limit int, p_lease_seconds int default 60, p_attempts_max int default 8)
returns table (id uuid, kind text, category text, preference text, user_id uuid, email text, variables jsonb,
               subject text, text_body text, html_body text, attempts int)
language plpgsql as $$
begin
  return query
  with due as (
    select o.id from notify.outbox o
    where o.status in ('queued', 'sending') and o.next_attempt_at <= now()
    order by o.next_attempt_at
    limit p_limit
    for update skip locked
  ), facts as (
    select o.id, o.kind, k.category, k.preference, o.user_id, p.email, o.locale, o.variables, o.attempts,
      case
        when p.email is null then 'skipped'
        when exists (select from notify.suppressions s where s.email = p.email) then 'suppressed'
        when k.category = 'optional' and coalesce((to_jsonb(pref) ->> k.preference)::boolean, true) = false then 'skipped'
        when o.attempts >= p_attempts_max then 'dead'
        else 'sending'
      end as next_status
    from due join notify.outbox o on o.id = due.id
    join notify.kinds k on k.kind = o.kind
    left join private.profiles p on p.user_id = o.user_id
    left join notify.preferences pref on pref.user_id = o.user_id
  ), updated as (
    update notify.outbox o set
      status = f.next_status,
      attempts = o.attempts + (f.next_status = 'sending')::int,
      next_attempt_at = case when f.next_status = 'sending' then now() + make_interval(secs => p_lease_seconds)
                             else o.next_attempt_at end,
      last_error = case f.next_status when 'dead' then coalesce(o.last_error, 'lease expired') || ' (attempts exhausted)'
                                      else o.last_error end,
      variables = case when f.next_status = 'sending' then o.variables else o.variables - 'token' end
    from facts f where o.id = f.id
    returning o.id, f.next_status, o.attempts
  )
  select f.id, f.kind, f.category, f.preference, f.user_id, f.email, f.variables, t.subject, t.text_body, t.html_body, u.attempts
  from updated u join facts f on f.id = u.id
  left join lateral (
    select t.subject, t.text_body, t.html_body from notify.templates t
    where t.kind = f.kind and t.locale in (f.locale, 'en')
    order by (t.locale = f.locale) desc limit 1
  ) t on true
  where u.next_status = 'sending';
end;
$$;
comment on function notify.claim_mails(int, int, int) is 'Drainer: claim due mails with FOR UPDATE SKIP LOCKED and a lease; settles rows that need no sending.';

-- Record what the provider said, for a batch: [{id, ok, providerId?, error?, retryAfterSeconds?, permanent?}].
-- Sent: the secret is dropped from the variables. A failure: dead when permanent or out of attempts,
-- otherwise queued again after exponential backoff with full jitter (30 s × 2^(attempt-1), at most an
-- hour, a random point in its upper half), or after the provider's Retry-After when it gave one.
-- A row another drainer already settled (a lease that expired mid-send) keeps its first outcome.
create function notify.record_mail_results(p_results jsonb, p_attempts_max int default 8) returns int
language plpgsql as $$
declare
  n int;
begin
  with r as (
    select (x->>'id')::uuid as id, coalesce((x->>'ok')::boolean, false) as ok, x->>'providerId' as provider_id,
           left(x->>'error', 500) as error, (x->>'retryAfterSeconds')::numeric as retry_after,
           coalesce((x->>'permanent')::boolean, false) as permanent
    from jsonb_array_elements(p_results) x
  )
  update notify.outbox o set
    status = case when r.ok then 'sent'
                  when r.permanent or o.attempts >= p_attempts_max then 'dead' else 'queued' end,
    sent_at = case when r.ok then now() end,
    provider_message_id = case when r.ok then r.provider_id else o.provider_message_id end,
    last_error = case when r.ok then o.last_error else r.error end,
    variables = case when r.ok or r.permanent or o.attempts >= p_attempts_max then o.variables - 'token'
                     else o.variables end,
    next_attempt_at = case
      when r.ok then o.next_attempt_at
      when r.retry_after is not null then now() + make_interval(secs => r.retry_after::double precision * (1 + random() * 0.1))
      else now() + make_interval(secs => least(3600, 30 * 2 ^ (greatest(o.attempts, 1) - 1)) * (0.5 + random() * 0.5))
    end
  from r
  where o.id = r.id and o.status = 'sending';
  get diagnostics n = row_count;
  return n;
end;
$$;
comment on function notify.record_mail_results(jsonb, int) is 'Drainer: record sends and failures (backoff with jitter, Retry-After, dead after the last attempt).';

-- Admins: send dead mails again (all of them, or the given ids). The outbox id stays the Idempotency-Key,
-- so a mail the provider did accept before is not sent twice within the provider's 24 hours.
create function notify.redrive_mails(p_ids uuid[] default null) returns int
language plpgsql as $$
declare
  n int;
begin
  update notify.outbox set status = 'queued', attempts = 0, next_attempt_at = now(), last_error = null
  where status = 'dead' and (p_ids is null or id = any(p_ids));
  get diagnostics n = row_count;
  return n;
end;
$$;
comment on function notify.redrive_mails(uuid[]) is 'Re-queue dead mails (all, or the given ids) with a fresh attempt budget.';

-- For operations alerts (F's alert rows): one mail to every admin, once per p_alert_key. Call it in the
-- transaction that records the alert's state change, with a key naming that change, e.g.
--   perform notify.enqueue_admin_alert(a.id || ':' || a.fired_at, 'critical', 'Earnings lag', 'fired', '...');
create function notify.enqueue_admin_alert(
  p_alert_key text, p_severity text, p_title text, p_state text, p_detail text default ''
) returns int
language plpgsql as $$
declare
  n int;
begin
  insert into notify.outbox (dedupe_key, kind, user_id, variables)
  select 'admin_alert:' || p_alert_key || ':' || c.user_id, 'admin_alert', c.user_id,
         jsonb_build_object('severity', p_severity, 'title', p_title, 'state', p_state, 'detail', coalesce(p_detail, ''))
  from private.credentials c where c.role = 'admin'
  on conflict (dedupe_key) do nothing;
  get diagnostics n = row_count;
  return n;
end;
$$;
comment on function notify.enqueue_admin_alert(text, text, text, text, text) is 'Queue an alert mail to every admin, once per alert key.';

create view admin.mail_outbox as
  select o.id, o.kind, o.user_id, o.status, o.attempts, o.next_attempt_at, o.last_error, o.created_at, o.sent_at
  from notify.outbox o;
comment on view admin.mail_outbox is 'Transactional mails (no addresses or secrets). Dead ones: where status = ''dead''; send them again with select notify.redrive_mails();';
