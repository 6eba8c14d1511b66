{#- The age band analysts see instead of an exact age (60-69 / 70-79 / 80-89 / 90+), shared by
    every published person-level table so their bands agree. -#}
{% macro age_band(age_expr) -%}
    case
        when {{ age_expr }} >= 90 then '90+'
        when {{ age_expr }} >= 80 then '80-89'
        when {{ age_expr }} >= 70 then '70-79'
        else '60-69'
    end
{%- endmacro %}
