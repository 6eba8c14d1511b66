-- Every KPI for the warehouse as a whole (all districts of the division list together) and
-- month. Plans set no city targets: threshold KPIs compare with the catalogue's threshold,
-- progress KPIs have no target (status info).
with districts as (
    select count(distinct district_code) as district_count from {{ ref('int_scope_towns') }}
)

select
    s.month,
    s.kpi_id,
    {{ kpi_status_columns('s') }},
    cast(d.district_count as integer) as district_count
from {{ ref('int_kpi__status') }} as s
cross join districts as d
where s.scope_level = 'city'
