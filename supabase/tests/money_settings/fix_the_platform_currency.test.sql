begin;
select plan(2);

select throws_ok($$update money.settings set currency = 'EUR'$$, 'MO409', null,
  'the platform currency cannot change (projections and rebuilds read it)');
select lives_ok($$update money.settings set commission_hold_days = 7$$, 'other settings can');

select * from finish();
rollback;
