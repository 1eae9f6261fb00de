-- The user-facing projection of UserRegistered (and, later, of VIP and KYC events): no personal data.
-- Users read their own row through Supabase's REST API under RLS; anon reads nothing.
create table public.users (
  user_id uuid primary key,
  referral_code text not null,
  referrer_id uuid,
  vip_level smallint not null default 0,
  kyc_status text not null default 'none',
  registered_at timestamptz not null,
  constraint users_referral_code_key unique (referral_code),
  constraint users_referral_code_format check (referral_code ~ '^[23456789ABCDEFGHJKMNPQRSTVWXYZ]{8}$'),
  constraint users_referrer_not_self check (referrer_id is distinct from user_id),
  constraint users_vip_level_range check (vip_level between 0 and 10),
  constraint users_kyc_status_check check (kyc_status in ('none', 'pending', 'approved', 'rejected', 'resubmission_requested'))
);
comment on table public.users is 'One row per registered user (projection of UserRegistered). Readable by the user themself through RLS.';
comment on column public.users.referrer_id is 'Who referred this user; fixed at signup, never changes.';
create index users_referrer_id_idx on public.users (referrer_id);

-- The referrer is fixed forever: the tree has no cycles and commissions never move (DESIGN.md §5).
create function public.users_keep_referrer() returns trigger
language plpgsql as $$
begin
  if new.referrer_id is distinct from old.referrer_id or new.user_id <> old.user_id then
    raise exception 'the referrer of a user is fixed at signup' using errcode = 'AU403';
  end if;
  return new;
end;
$$;
revoke all on function public.users_keep_referrer() from public, anon, authenticated;
create trigger users_keep_referrer before update on public.users
  for each row execute function public.users_keep_referrer();

select projections.register_table('public.users', 'user_id');
