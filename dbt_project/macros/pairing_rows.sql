{#- The rows of the pairing sheets in force each report month (int_effective_sheets, carried-forward
    sheets included), with the town that listed the person. month_filter: a condition on es.month
    (a month-by-month model's months to build). -#}
{% macro pairing_rows_in_force(month_filter='true') -%}
    select es.town_code, es.month, es.file_id, es.source_month, p.row_number, p.person_key, p.id_number
    from {{ ref('int_effective_sheets') }} as es
    inner join {{ ref('stg_towns__pairings') }} as p on p.file_id = es.file_id
    where es.sheet_kind = 'pairings' and p.person_key is not null and {{ month_filter }}
{%- endmacro %}

{#- The persons (month, person_key) that the pairing sheets of two or more towns list in one
    month, from rows of pairing_rows_in_force: DQ04's pairing half, and the people whose home town
    int_quality__two_town_rows works out. -#}
{% macro listed_by_two_towns(pairing_rows) -%}
    select month, person_key
    from {{ pairing_rows }}
    group by month, person_key
    having count(distinct town_code) > 1
{%- endmacro %}
