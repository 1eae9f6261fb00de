-- Personal data and secrets (emails, password hashes, refresh tokens) live here, keyed by user id and
-- mutable, so a person can be erased while the event log stays whole. Not exposed by PostgREST
-- (Supabase exposes public and graphql_public only); only the backend's database role reads it.
create schema if not exists private;
comment on schema private is 'Personal data and credentials, keyed by user id; never exposed through the REST API.';
revoke all on schema private from public;
