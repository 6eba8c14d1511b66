{% macro kpi_status_columns(alias='s') -%}
{#- The columns every KPI mart (town, district, city) takes from int_kpi__status, in order. -#}
{%- for column in ['numerator', 'denominator', 'value', 'target', 'due_date', 'expected', 'status', 'stale'] -%}
{{ alias }}.{{ column }}{{ ',\n    ' if not loop.last }}
{%- endfor -%}
{%- endmacro %}
