-- What each month of the month-by-month models was built from (macros/incremental_months.sql).
-- DuckDB only: Spark builds those models in full and has no such table, so it reads no rows.
{% if target.type == 'duckdb' %}
select cast(month as date) as month, cast(inputs as string) as inputs
from {{ source('state', 'built_month_inputs') }}
{% else %}
-- {{ source('state', 'built_month_inputs') }}
select cast(null as date) as month, cast(null as string) as inputs
where false
{% endif %}
