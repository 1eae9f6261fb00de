-- The default plan rewards higher VIP levels with higher rates (the product's "VIP levels 1-10 with
-- increasing commission rates"). Level L's base rate is what the first VIP level allowed to earn it
-- (VIP L) gets, as before; each VIP level above that adds a tenth of the base:
--   rate(L, v) = base(L) + base(L) / 10 x (v - L),  v >= L,
--   base = 800, 400, 300, 200, 100, 100, 50, 50, 50, 50 bps for levels 1-10.
-- VIP 1 earns 8% on level 1; VIP 10 earns 15.2%, 7.2%, 5.1%, 3.2%, 1.5%, 1.4%, 0.65%, 0.6%, 0.55%, 0.5%
-- = 35.9% over ten levels.
--
-- The plan is data and applies to decisions from now on: every CommissionAccrued records the rateBps and
-- vipLevel it used, and projections (and a rebuild) take amounts from the events, never from this table,
-- so commissions accrued under the old rates keep them. Only the rows of a deployment still on the
-- shipped default (21% flat) change; a deployment that edited its plan keeps its own.
do $$
declare
  v_base constant int[] := array[800, 400, 300, 200, 100, 100, 50, 50, 50, 50];
  v_untouched boolean;
begin
  select count(*) = 55 and bool_and(rate_bps = v_base[level]) into v_untouched from money.commission_rates;
  if not v_untouched then
    raise notice 'money.commission_rates differs from the shipped default: left as it is';
    return;
  end if;
  update money.commission_rates
  set rate_bps = v_base[level] + v_base[level] / 10 * (vip_level - level);
end;
$$;
comment on table money.commission_rates is 'Commission in basis points of the purchase price, per (level above the buyer, VIP level of the upline). No row: that VIP level does not earn on that level; the share goes to the platform (at the level''s highest rate). Default: base(L) + base(L)/10 per VIP level above L (README, "The default commission plan"). Applies to purchases paid after a change; each commission event records the rate it used.';
