-- Seed data for local development: applied by ./dev (and `supabase db reset`). Safe to run twice.
select 1;
