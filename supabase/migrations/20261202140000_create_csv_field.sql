-- One CSV field of text, as _shared/http/csv.ts csvField writes a string: a leading quote for text a
-- spreadsheet would run as a formula (=, +, -, @, tab, carriage return first), then RFC 4180 quoting when
-- the text holds a quote, comma or line break; null is the empty field. Finance exports build each page's
-- CSV text in Postgres with it (_shared/infra/export_store.ts), so the function makes no object per cell.
-- One SQL expression, not strict and without a SET clause (either would stop it), so the planner inlines
-- it into the export queries; it names only pg_catalog's operators and functions, which come first anyway.
create function money.csv_field(p_value text) returns text
language sql immutable parallel safe
as $$
  select case
    when p_value ~ '[",\r\n]' then
      '"' || replace(case when p_value ~ '^[=+\-@\t\r]' then '''' || p_value else p_value end, '"', '""') || '"'
    else coalesce(case when p_value ~ '^[=+\-@\t\r]' then '''' || p_value else p_value end, '')
  end
$$;

comment on function money.csv_field(text) is
  'One CSV field of text: formula-looking text gets a leading quote, then RFC 4180 quoting; null is empty. Same rules as csvField in _shared/http/csv.ts.';
