{#- Every KPI of the catalogue has a row for every month (and, given a scope model, every scope). -#}
{% test complete_kpi_grid(model, scope_model=none, scope_column=none) %}
with expected as (
    select c.kpi_id, m.month{% if scope_model %}, s.{{ scope_column }} as scope{% endif %}
    from {{ ref('kpi_catalogue') }} as c
    cross join {{ ref('int_months') }} as m
    {% if scope_model %}cross join {{ scope_model }} as s{% endif %}
)
select e.*
from expected as e
left join {{ model }} as k
    on k.kpi_id = e.kpi_id and k.month = e.month
    {% if scope_model %}and k.{{ scope_column }} = e.scope{% endif %}
where k.kpi_id is null
{% endtest %}
