-- The members behind every town-level KPI row of kpi_town_monthly that has a numerator: the
-- villages, facilities, projects, payments, point rows, towns and persons (by person_key only)
-- each KPI counts, with their contribution to its numerator and denominator and the row that
-- decides them. De-identified: no ID, name or phone.
-- Built month by month from the first changed month on (macros/incremental_months.sql): a
-- month's KPI rows read earlier months (cumulative counts).
{{ config(materialized=incremental_by_month(), incremental_strategy='append', on_schema_change='fail',
          pre_hook="{{ delete_months_to_build(from_first_changed=true) }}") }}
{{ month_by_month_dependencies() }}
select
    m.kpi_id,
    m.town_code,
    t.town_name,
    m.month,
    m.member_kind,
    m.member_id,
    m.member_name,
    m.village_code,
    v.short_name as village_name,
    m.person_group,
    m.in_numerator,
    m.in_denominator,
    m.numerator_value,
    m.denominator_value,
    m.reason_zh,
    m.source_file,
    m.source_sheet,
    m.source_row
from {{ ref('int_kpi__members') }} as m
inner join {{ ref('int_kpi__status') }} as k
    on k.scope_code = m.town_code and k.month = m.month and k.kpi_id = m.kpi_id
inner join {{ ref('dim_town') }} as t on t.town_code = m.town_code
left join {{ ref('dim_village') }} as v on v.village_code = m.village_code
where k.numerator is not null and {{ in_months_to_build('m.month', from_first_changed=true) }}
