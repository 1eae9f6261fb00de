-- The personal side of a KYC case, keyed by case id and erasable (private.erase_kyc_case): who the
-- applicant says they are, what the uploaded files are and where they are stored, and what admins
-- wrote when deciding. None of it is in an event; the events carry document ids and SHA-256 digests.
create table private.kyc_applicants (
  case_id uuid primary key,
  user_id uuid not null,
  full_name text not null,
  date_of_birth date not null,
  country text not null,
  created_at timestamptz not null default now(),
  constraint kyc_applicants_full_name_length check (length(full_name) between 1 and 200),
  constraint kyc_applicants_country_format check (country ~ '^[A-Z]{2}$'),
  constraint kyc_applicants_date_of_birth_range check (date_of_birth >= date '1900-01-01')
);
comment on table private.kyc_applicants is 'Identity fields of a KYC submission (personal data; erasable).';
create index kyc_applicants_user_id_idx on private.kyc_applicants (user_id);

create table private.kyc_documents (
  document_id uuid primary key,
  case_id uuid not null references private.kyc_applicants (case_id) on delete cascade,
  user_id uuid not null,
  ordinal smallint not null,
  content_type text not null,
  size_bytes int not null,
  sha256 text not null,
  -- Where the file lives in the document storage (a private bucket, or the local folder).
  storage_key text not null,
  created_at timestamptz not null default now(),
  constraint kyc_documents_storage_key_key unique (storage_key),
  constraint kyc_documents_case_ordinal_key unique (case_id, ordinal),
  constraint kyc_documents_content_type_check check (content_type in ('image/jpeg', 'image/png', 'application/pdf')),
  constraint kyc_documents_size_positive check (size_bytes > 0),
  constraint kyc_documents_sha256_format check (sha256 ~ '^[0-9a-f]{64}$')
);
comment on table private.kyc_documents is 'Uploaded KYC files: type (sniffed), size, digest and storage key. The files themselves are in storage.';

create table private.kyc_decisions (
  case_id uuid not null,
  -- The case stream version this decision produced.
  case_version bigint not null,
  decision text not null,
  admin_id uuid not null,
  -- Shown to the user.
  reason text,
  -- For admins only.
  note text,
  final boolean not null default false,
  decided_at timestamptz not null default now(),
  constraint kyc_decisions_pkey primary key (case_id, case_version),
  constraint kyc_decisions_decision_check check (decision in ('approve', 'reject', 'request_resubmission', 'revoke')),
  constraint kyc_decisions_reason_length check (length(reason) between 1 and 500),
  constraint kyc_decisions_note_length check (length(note) between 1 and 2000)
);
comment on table private.kyc_decisions is 'Every KYC decision with its admin, user-facing reason and internal note (free text: erasable).';
