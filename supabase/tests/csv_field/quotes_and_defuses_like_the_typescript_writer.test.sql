begin;
select plan(5);

-- The same cases as csvField in _shared/http/csv.ts (its tests in admin/users_routes_test.ts).
select is(
  array[money.csv_field(null), money.csv_field(''), money.csv_field('plain'), money.csv_field('USD'),
        money.csv_field('platform:revenue'), money.csv_field('2026-06-01T00:00:00.123456Z')],
  array['', '', 'plain', 'USD', 'platform:revenue', '2026-06-01T00:00:00.123456Z'],
  'plain text and null pass as they are (null is the empty field)');
select is(
  array[money.csv_field('a,b'), money.csv_field('say "hi"'), money.csv_field(E'two\nlines'),
        money.csv_field(E'cr\rinside')],
  array['"a,b"', '"say ""hi"""', E'"two\nlines"', E'"cr\rinside"'],
  'a comma, quote or line break quotes the field and doubles its quotes');
select is(
  array[money.csv_field('=SUM(A1)'), money.csv_field('+1'), money.csv_field('-800'), money.csv_field('@x'),
        money.csv_field(E'\tx'), money.csv_field(E'\rx')],
  array['''=SUM(A1)', '''+1', '''-800', '''@x', E'''\tx', E'"''\rx"'],
  'text a spreadsheet would run as a formula gets a leading quote (a carriage return also quotes it)');
select is(money.csv_field('=HYPERLINK("http://x","y")'), '"''=HYPERLINK(""http://x"",""y"")"',
  'a formula with quotes and commas is defused, then quoted');

select is(
  array(select money.csv_time(t) from unnest(array['2026-06-01 00:00:00.000001+00', '2031-12-31 23:59:59.999999-05',
                                                    '2026-06-01 12:00:00+02', null]::timestamptz[]) t),
  array(select money.rfc3339(t) from unnest(array['2026-06-01 00:00:00.000001+00', '2031-12-31 23:59:59.999999-05',
                                                   '2026-06-01 12:00:00+02', null]::timestamptz[]) t),
  'csv_time writes the same RFC 3339 UTC text as money.rfc3339 (null stays null: the empty field)');

select * from finish();
rollback;
