-- KYC cases as people read them: a projection of the Kyc* events (one stream per case, `kyc-<caseId>`),
-- with ids, statuses and times only. Names, dates of birth, documents and the reasons admins type live
-- in private.kyc_* (erasable). Users read their own cases through Supabase under RLS.
create schema if not exists kyc;
comment on schema kyc is 'KYC commands (submit, decide) and checks other areas use (kyc.is_approved).';
revoke all on schema kyc from public;

create table public.kyc_cases (
  case_id uuid primary key,
  user_id uuid not null references public.users (user_id),
  status text not null default 'pending',
  -- A final rejection or revocation: the user may not submit again.
  final boolean not null default false,
  document_count smallint not null,
  -- The case stream's version: the expected version of its next decision.
  version bigint not null,
  -- Position of KycSubmitted: the queue's order and keyset, unique and stable across rebuilds.
  submitted_position bigint not null,
  submitted_at timestamptz not null,
  decided_at timestamptz,
  decided_by uuid,
  constraint kyc_cases_status_check
    check (status in ('pending', 'approved', 'rejected', 'resubmission_requested', 'revoked')),
  constraint kyc_cases_final_only_when_closed check (not final or status in ('rejected', 'revoked')),
  constraint kyc_cases_decided_together check ((decided_at is null) = (decided_by is null)),
  constraint kyc_cases_not_decided_by_owner check (decided_by is distinct from user_id),
  constraint kyc_cases_document_count_range check (document_count between 1 and 100)
);
comment on table public.kyc_cases is
  'KYC cases (projection of KycSubmitted/Approved/Rejected/ResubmissionRequested/ApprovalRevoked). No personal data.';
comment on column public.kyc_cases.decided_by is 'The admin who made the latest decision on this case.';

-- At most one open case per user, whatever the code above it does.
create unique index kyc_cases_one_pending_per_user on public.kyc_cases (user_id) where status = 'pending';
create index kyc_cases_user_id_idx on public.kyc_cases (user_id, submitted_position desc);
create index kyc_cases_queue_idx on public.kyc_cases (status, submitted_position);
create unique index kyc_cases_submitted_position_key on public.kyc_cases (submitted_position);

select projections.register_table('public.kyc_cases', 'user_id');
