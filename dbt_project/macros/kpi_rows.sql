{% macro kpi_rows(measures, kpis, present, scope='town_code', counts=[]) %}
{#-
    The long form of a KPI family: one row per scope, month and KPI from `measures` (one row per
    scope and month), with the family's `counts` relations (per scope and month) joined in, so
    a family writes only its counts and its KPI list. `kpis`: (kpi_id, numerator, denominator)
    as SQL on these, denominator none for a count. Null is 0 (nothing counted: the scope and
    month has no row in `counts`). Where `present` is false (the feeding sheet or registry is
    missing) both are null; is_stale says whether an older version stood in.
-#}
{%- for kpi_id, numerator, denominator in kpis %}
select
    m.{{ scope }},
    m.month,
    '{{ kpi_id }}' as kpi_id,
    cast(case when {{ present }} then coalesce({{ numerator }}, 0) end as double) as numerator,
    cast(case when {{ present }} then {{ 'coalesce(' ~ denominator ~ ', 0)' if denominator else 'null' }} end as double)
        as denominator,
    m.is_stale
from {{ measures }} as m
{%- for relation in counts %}
left join {{ relation }} on {{ relation }}.{{ scope }} = m.{{ scope }} and {{ relation }}.month = m.month
{%- endfor %}
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
{% endmacro %}
