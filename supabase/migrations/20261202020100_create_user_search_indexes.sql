-- Admin user search (GET /admin/users?search=): an email substring, a name (the KYC applicant's full
-- name), a referral code or an id, fast at a million users. Substrings of three characters or more are
-- served by trigram indexes (pg_trgm, which Supabase ships, in its `extensions` schema); the list is
-- newest first, so users also get an index in that order for the unfiltered list and its keyset pages.
create extension if not exists pg_trgm with schema extensions;

create index profiles_email_trgm_idx on private.profiles using gin (email extensions.gin_trgm_ops);
create index kyc_applicants_full_name_trgm_idx on private.kyc_applicants using gin (lower(full_name) extensions.gin_trgm_ops);
create index users_registered_at_idx on public.users (registered_at desc, user_id desc);
