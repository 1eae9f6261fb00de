-- A person's contact data. Emails arrive normalised by the auth function (trimmed, NFC, lower case);
-- the check keeps any other writer honest so the unique index really is case-insensitive.
create table private.profiles (
  user_id uuid primary key,
  email text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint profiles_email_key unique (email),
  constraint profiles_email_normalised check (email = lower(btrim(email)) and email = normalize(email, nfc)),
  constraint profiles_email_length check (length(email) between 3 and 254)
);
comment on table private.profiles is 'Personal data of a user (erasable); the events only carry the user id.';
