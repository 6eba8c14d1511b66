{#- The version of one town-workbook sheet in force for every programme town and month
    (int_effective_sheets on int_town_months): file_id (null while the town never sent the
    sheet), has_sheet and is_stale, with the extra int_town_months columns asked for. -#}
{% macro sheet_in_force(sheet_kind, town_month_columns=[]) -%}
    select
        tm.town_code,
        tm.month,
        {%- for column in town_month_columns %}
        tm.{{ column }},
        {%- endfor %}
        es.file_id,
        es.file_id is not null as has_sheet,
        es.is_stale
    from {{ ref('int_town_months') }} as tm
    inner join {{ ref('int_effective_sheets') }} as es
        on es.town_code = tm.town_code and es.month = tm.month and es.sheet_kind = '{{ sheet_kind }}'
{%- endmacro %}

{#- Every row of one town-workbook sheet kind in force per town and month (int_effective_sheets,
    months with a version only): month, source_month and is_stale, then the staging columns of
    stg_towns__<sheet_kind> (their town_code is the workbook's town). -#}
{% macro sheet_rows_in_force(sheet_kind) -%}
    select es.month, es.source_month, es.is_stale, r.*
    from {{ ref('int_effective_sheets') }} as es
    inner join {{ ref('stg_towns__' ~ sheet_kind) }} as r on r.file_id = es.file_id
    where es.sheet_kind = '{{ sheet_kind }}'
{%- endmacro %}

{#- Every row of one registry's export in force per month (int_effective_registries), any ID and
    any status: the month, then the staging columns of stg_registry__<registry>. -#}
{% macro registry_rows_in_force(registry) -%}
    select e.month, r.*
    from {{ ref('int_effective_registries') }} as e
    inner join {{ ref('stg_registry__' ~ registry) }} as r on r.file_id = e.file_id
    where e.registry = '{{ registry }}'
{%- endmacro %}
