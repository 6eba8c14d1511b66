{% macro kpi_rows(measures, kpis, present, scope='town_code') %}
{#-
    The long form of a KPI family: one row per scope, month and KPI from `measures` (one row per
    scope and month). `kpis`: (kpi_id, numerator, denominator) as SQL on `measures`, denominator
    none for a count. Where `present` is false (the feeding sheet or registry is missing) both
    are null; is_stale says whether an older version stood in.
-#}
{%- for kpi_id, numerator, denominator in kpis %}
select
    {{ scope }},
    month,
    '{{ kpi_id }}' as kpi_id,
    cast(case when {{ present }} then {{ numerator }} end as double) as numerator,
    cast(case when {{ present }} then {{ denominator if denominator else 'null' }} end as double) as denominator,
    is_stale
from {{ measures }}
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
{% endmacro %}
