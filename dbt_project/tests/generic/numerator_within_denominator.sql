{#- A rate's numerator never exceeds its denominator (every KPI except those listed). -#}
{% test numerator_within_denominator(model, except_kpis=[]) %}
select *
from {{ model }}
where denominator is not null and numerator > denominator
{% if except_kpis %}  and kpi_id not in ({% for k in except_kpis %}'{{ k }}'{% if not loop.last %}, {% endif %}{% endfor %}){% endif %}
{% endtest %}
