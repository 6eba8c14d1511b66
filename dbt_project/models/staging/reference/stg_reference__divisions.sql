-- The division list: the built-in seed, or the file given to `ruralcare refresh --divisions`
-- (a city-scale list with the same columns), passed in as the dbt var `divisions_file`.
-- The seed stays a dependency either way, so dbt's graph is the same with and without the
-- var: Dagster loads one manifest and orders its assets by it.
-- depends_on: {{ ref('divisions') }}
{% set divisions_file = var('divisions_file', none) %}
select
    cast(code as string) as code,
    cast(name as string) as name,
    cast(level as string) as level,
    cast(parent_code as string) as parent_code,
    cast(is_rural_scope as boolean) as is_rural_scope
{% if divisions_file %}
from {{ csv_file_rows(divisions_file) }}
{% else %}
from {{ ref('divisions') }}
{% endif %}
