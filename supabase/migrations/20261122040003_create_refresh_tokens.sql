-- Refresh tokens rotate on every use; all tokens descending from one login form a family (a session).
-- Presenting a used token means it leaked: the whole family is revoked (OAuth 2.0 Security BCP §4.14).
create table private.refresh_token_families (
  family_id uuid primary key,
  user_id uuid not null references private.profiles (user_id) on delete cascade,
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  revoked_reason text,
  constraint refresh_token_families_reason_check check (revoked_reason in ('logout', 'reuse', 'operator')),
  constraint refresh_token_families_revoked_together check ((revoked_at is null) = (revoked_reason is null))
);
comment on table private.refresh_token_families is 'One row per session (login or signup); revoked on logout or refresh-token reuse.';
create index refresh_token_families_user_id_idx on private.refresh_token_families (user_id);

create table private.refresh_tokens (
  -- Only the SHA-256 of the token is stored: a database leak does not hand out sessions.
  token_sha256 text primary key,
  family_id uuid not null references private.refresh_token_families (family_id) on delete cascade,
  user_id uuid not null,
  issued_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz,
  constraint refresh_tokens_sha256_format check (token_sha256 ~ '^[0-9a-f]{64}$'),
  constraint refresh_tokens_expiry_after_issue check (expires_at > issued_at)
);
comment on table private.refresh_tokens is 'Refresh tokens by SHA-256; used_at set on rotation, a second use revokes the family.';
create index refresh_tokens_family_id_idx on private.refresh_tokens (family_id);
