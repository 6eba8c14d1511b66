{#- A reference table's rows, each column cast to its type: the seed, or the CSV file given in
    its place (`ruralcare refresh --divisions FILE`, `--plan DIR`). A model calling this keeps
    `-- depends_on: {{ ref(seed) }}` so that dbt's graph is the same with and without the file:
    Dagster loads one manifest and orders its assets by it. -#}
{% macro seed_or_file_rows(seed, file, columns) -%}
select
{%- for name, type in columns %}
    cast({{ name }} as {{ type }}) as {{ name }}{{ ',' if not loop.last }}
{%- endfor %}
{% if file %}
from {{ csv_file_rows(file) }}
{% else %}
from {{ ref(seed) }}
{% endif %}
{%- endmacro %}
