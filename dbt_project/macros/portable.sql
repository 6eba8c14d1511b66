{#- Engine-specific SQL lives here, so the models stay standard SQL (a later issue runs them on Spark). -#}

{#- Last calendar day of the month of a date. -#}
{% macro month_end(date_expr) -%}
    last_day({{ date_expr }})
{%- endmacro %}

{#- Whole calendar days from start to end (end - start). -#}
{% macro days_between(start_expr, end_expr) -%}
    date_diff('day', {{ start_expr }}, {{ end_expr }})
{%- endmacro %}

{#- First day of the month after the month of a date. -#}
{% macro next_month_start(date_expr) -%}
    cast(date_trunc('month', {{ date_expr }}) + interval 1 month as date)
{%- endmacro %}

{#- One row per month (first day) from start to end inclusive, as a derived table with column `month`. -#}
{% macro month_series(start_expr, end_expr) -%}
    (select cast(generate_series as date) as month
     from generate_series(cast({{ start_expr }} as timestamp), cast({{ end_expr }} as timestamp), interval 1 month))
{%- endmacro %}

{#- Birth date encoded in a normalised 18-character resident ID (characters 7-14). -#}
{% macro birth_date_from_id(id_expr) -%}
    make_date(cast(substr({{ id_expr }}, 7, 4) as integer), cast(substr({{ id_expr }}, 11, 2) as integer), cast(substr({{ id_expr }}, 13, 2) as integer))
{%- endmacro %}

{#- Age in whole years at a date (the birthday itself counts). -#}
{% macro age_at(birth_expr, at_expr) -%}
    (extract(year from {{ at_expr }}) - extract(year from {{ birth_expr }})
     - case when extract(month from {{ at_expr }}) * 100 + extract(day from {{ at_expr }})
                 < extract(month from {{ birth_expr }}) * 100 + extract(day from {{ birth_expr }})
            then 1 else 0 end)
{%- endmacro %}

{#- A date plus a whole number of days. -#}
{% macro add_days(date_expr, days_expr) -%}
    cast({{ date_expr }} + ({{ days_expr }}) * interval 1 day as date)
{%- endmacro %}

{#- A date plus a whole number of months. -#}
{% macro add_months(date_expr, months_expr) -%}
    cast({{ date_expr }} + ({{ months_expr }}) * interval 1 month as date)
{%- endmacro %}

{#- Whole calendar months from the month of start to the month of end. -#}
{% macro months_between(start_expr, end_expr) -%}
    date_diff('month', date_trunc('month', {{ start_expr }}), date_trunc('month', {{ end_expr }}))
{%- endmacro %}
