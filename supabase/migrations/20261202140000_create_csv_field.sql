-- What finance exports write their CSV with, in Postgres (_shared/infra/export_store.ts builds each page's
-- lines in SQL, so the function makes no object per row or cell).
--
-- csv_field: one CSV field of text, as _shared/http/csv.ts csvField writes a string: a leading quote for
-- text a spreadsheet would run as a formula (=, +, -, @, tab, carriage return first), then RFC 4180 quoting
-- when the text holds a quote, comma or line break; null is the empty field. The first branch is the
-- common case, one regular expression.
--
-- csv_time: RFC 3339 UTC with microseconds, the same text as money.rfc3339. money.rfc3339 is declared
-- immutable over to_char, which is stable, so the planner calls it as a function for every value (about
-- 10 µs each); declared stable, this one is inlined into the query (to_char alone, about 2 µs).
--
-- Both are one SQL expression, not strict and without a SET clause (either would stop the inlining); they
-- name only pg_catalog's operators and functions, which are searched first anyway.
create function money.csv_field(p_value text) returns text
language sql immutable parallel safe
as $$
  select case
    when p_value is null then ''
    when p_value !~ '^[=+\-@\t\r]|[",\r\n]' then p_value
    when p_value ~ '[",\r\n]' then
      '"' || replace(case when p_value ~ '^[=+\-@\t\r]' then '''' || p_value else p_value end, '"', '""') || '"'
    else '''' || p_value
  end
$$;

create function money.csv_time(p_at timestamptz) returns text
language sql stable parallel safe
as $$ select to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;

comment on function money.csv_field(text) is
  'One CSV field of text: formula-looking text gets a leading quote, then RFC 4180 quoting; null is empty. Same rules as csvField in _shared/http/csv.ts.';
comment on function money.csv_time(timestamptz) is
  'RFC 3339 UTC with microseconds (as money.rfc3339), inlinable: finance exports format every time with it.';
