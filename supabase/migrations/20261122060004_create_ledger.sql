-- Double-entry ledger. Every money movement is one event whose entries sum to zero; user balances are
-- the running sums of their entries, and each entry records the balance before and after it.
-- Platform-side accounts (revenue, expenses, Stripe clearing, payouts) keep no running balance row:
-- every purchase touches them, and one hot row would serialise all purchases. Their balance is the
-- sum of their entries (admin.platform_balances).
create table public.user_accounts (
  user_id uuid primary key,
  currency text not null,
  available_minor bigint not null default 0,
  pending_minor bigint not null default 0,
  in_transit_minor bigint not null default 0,
  owed_minor bigint not null default 0,
  earned_minor bigint not null default 0,
  commission_minor bigint not null default 0,
  withdrawn_minor bigint not null default 0,
  constraint user_accounts_available_nonnegative check (available_minor >= 0),
  constraint user_accounts_pending_nonnegative check (pending_minor >= 0),
  constraint user_accounts_in_transit_nonnegative check (in_transit_minor >= 0),
  constraint user_accounts_owed_nonpositive check (owed_minor <= 0)
);
comment on table public.user_accounts is 'Per user: balances (available, pending commissions, withdrawals in transit, owed after clawbacks, as negative) and lifetime totals (earned, commission net of reversals, withdrawn).';
comment on column public.user_accounts.owed_minor is 'What clawbacks could not take from the available balance: the user owes it (negative).';

create table public.ledger_entries (
  event_position bigint not null,
  line int not null,
  account text not null,
  user_id uuid,
  amount_minor bigint not null,
  balance_before_minor bigint,
  balance_after_minor bigint,
  currency text not null,
  event_type text not null,
  reference_id uuid,
  recorded_at timestamptz not null,
  constraint ledger_entries_pkey primary key (event_position, line),
  constraint ledger_entries_amount_nonzero check (amount_minor <> 0),
  constraint ledger_entries_user_balance check ((user_id is null) = (balance_after_minor is null)),
  constraint ledger_entries_before_after check (balance_after_minor is null or balance_after_minor = balance_before_minor + amount_minor)
);
comment on table public.ledger_entries is 'Immutable ledger lines, one set per money event (event_position), summing to zero per event. account is user:<kind> or platform:<kind>.';
create index ledger_entries_user_idx on public.ledger_entries (user_id, event_position desc, line desc) where user_id is not null;

select projections.register_table('public.user_accounts', 'user_id');
select projections.register_table('public.ledger_entries', 'user_id');

create function projections.open_user_account(e event_store.events) returns void
language sql as $$
  insert into public.user_accounts (user_id, currency) values ((e.data ->> 'userId')::uuid, (money.settings()).currency);
$$;
insert into projections.handlers (event_type, handler, priority)
values ('UserRegistered', 'projections.open_user_account(event_store.events)'::regprocedure, 30);

-- Post one event's entries: line i moves p_amounts[i] on account p_kinds[i] of user p_user_ids[i] (a
-- null user: a platform account), all about p_reference_id. User kinds: available, pending, in_transit,
-- owed. Raises MO500 when the lines do not sum to zero (a programming error, never a client's).
create function projections.post_entries(
  e event_store.events, p_reference_id uuid, p_kinds text[], p_amounts bigint[], p_user_ids uuid[]
) returns void
language plpgsql as $$
declare
  v_line int := 0;
  v_sum bigint := 0;
  v_after bigint;
  v_kind text;
  v_amount bigint;
  v_user_id uuid;
  v_currency text := coalesce(e.data ->> 'currency', (money.settings()).currency);
begin
  for i in 1 .. cardinality(p_kinds) loop
    v_kind := p_kinds[i];
    v_amount := p_amounts[i];
    v_user_id := p_user_ids[i];
    continue when v_amount = 0;
    v_line := v_line + 1;
    v_sum := v_sum + v_amount;
    v_after := null;
    if v_user_id is not null then
      update public.user_accounts set
        available_minor = available_minor + case when v_kind = 'available' then v_amount else 0 end,
        pending_minor = pending_minor + case when v_kind = 'pending' then v_amount else 0 end,
        in_transit_minor = in_transit_minor + case when v_kind = 'in_transit' then v_amount else 0 end,
        owed_minor = owed_minor + case when v_kind = 'owed' then v_amount else 0 end
      where user_id = v_user_id
      returning case v_kind when 'available' then available_minor when 'pending' then pending_minor
                            when 'in_transit' then in_transit_minor when 'owed' then owed_minor end
      into v_after;
      if v_after is null then
        raise exception 'no % account for user %', v_kind, v_user_id using errcode = 'MO500';
      end if;
    end if;
    insert into public.ledger_entries (event_position, line, account, user_id, amount_minor, balance_before_minor,
      balance_after_minor, currency, event_type, reference_id, recorded_at)
    values (e.position, v_line, case when v_user_id is null then 'platform:' else 'user:' end || v_kind, v_user_id,
      v_amount, v_after - v_amount, v_after, v_currency, e.type, p_reference_id, e.recorded_at);
  end loop;
  if v_sum <> 0 then
    raise exception 'ledger entries of event % sum to %, not zero', e.position, v_sum using errcode = 'MO500';
  end if;
end;
$$;
