-- How a user signs in and what they may do. The role is operator-managed state, not a domain event:
-- promotions are rare, audited by who ran them (see private.promote_to_admin), and change no number
-- anyone reads.
create table private.credentials (
  user_id uuid primary key references private.profiles (user_id) on delete cascade,
  password_hash text not null,
  role text not null default 'user',
  password_changed_at timestamptz not null default now(),
  role_changed_at timestamptz,
  constraint credentials_role_check check (role in ('user', 'admin')),
  constraint credentials_password_hash_format check (password_hash like '$scrypt$%' and length(password_hash) <= 200)
);
comment on table private.credentials is 'Password hash (scrypt, PHC string) and application role (user or admin) per user.';
