{% macro kpi_member_rows(members, kpis) %}
{#-
    The members of a KPI family: one row per KPI, town, month and member of `members` (columns
    town_code, month, member_kind, member_id, member_name, village_code, person_group, file_id,
    sheet_kind, source_row), as marts.kpi_members publishes them. `kpis`: one dict per KPI with
    `kpi` (its id), `numerator` (SQL: the member counts in the numerator), `denominator` (SQL, or
    none for a count), `reason` (SQL: reason_zh), and optionally `numerator_value` /
    `denominator_value` (SQL: the member's contribution, for sums; else 1 or 0) and `where` (SQL:
    which members to list; by default every member of a count's candidates, and the members in
    the numerator or denominator of a rate). A count's members have in_denominator false and a
    null denominator_value; a rate's contributions are never null, so they add up to its counts.
-#}
{%- for k in kpis %}
select
    '{{ k.kpi }}' as kpi_id,
    m.town_code,
    m.month,
    m.member_kind,
    m.member_id,
    m.member_name,
    m.village_code,
    m.person_group,
    coalesce({{ k.numerator }}, false) as in_numerator,
    {{ 'coalesce(' ~ k.denominator ~ ', false)' if k.denominator else 'false' }} as in_denominator,
    cast(coalesce({{ k.numerator_value or ('case when ' ~ k.numerator ~ ' then 1 end') }}, 0) as double)
        as numerator_value,
    cast({{ 'coalesce(' ~ (k.denominator_value or ('case when ' ~ k.denominator ~ ' then 1 end')) ~ ', 0)'
            if k.denominator else 'null' }} as double) as denominator_value,
    {{ k.reason }} as reason_zh,
    m.file_id,
    m.sheet_kind,
    cast(m.source_row as integer) as source_row
from {{ members }} as m
where {{ k.where or ('(' ~ k.numerator ~ ') or (' ~ k.denominator ~ ')' if k.denominator else 'true') }}
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
{% endmacro %}

{#- The columns that say who a member is and where it comes from, as kpi_member_rows reads them:
    `kind` (village, facility, project, person, payment, row or town), SQL for its id, name,
    village, person group and file, the sheet kind (the town sheet; none for a registry export
    or a whole workbook) and SQL for its row. `own`: the columns the relation already has. -#}
{% macro member_columns(kind, id, name=none, village_code=none, person_group=none, file_id=none, sheet_kind=none,
                        source_row=none, own=[]) -%}
    '{{ kind }}' as member_kind,
    cast({{ id }} as string) as member_id,
    cast({{ name or 'null' }} as string) as member_name,
    {%- for column, sql in [('village_code', village_code), ('person_group', person_group), ('file_id', file_id)]
        if column not in own %}
    cast({{ sql or 'null' }} as string) as {{ column }},
    {%- endfor %}
    cast({{ "'" ~ sheet_kind ~ "'" if sheet_kind else 'null' }} as string) as sheet_kind,
    cast({{ source_row or 'null' }} as integer) as source_row
{%- endmacro %}
