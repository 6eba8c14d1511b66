-- The milestones (due date, value) that set each KPI's target per scope, from the plan in use:
-- a scope's own plan_targets rows; for a town without its own rows, a rate takes the
-- rows of its own district, and K05 takes 1 due on its 镇养老服务中心 project's due date; where
-- no row applies (always so for the city: plans have no city rows), the catalogue's threshold
-- (no due date). Info KPIs have no target.
with catalogue as (
    select kpi_id, kind, measure, threshold from {{ ref('kpi_catalogue') }} where kind <> 'info'
),

scopes as (
    select 'town' as scope_level, town_code as scope_code, district_code from {{ ref('int_scope_towns') }}
    union
    select scope_level, scope_code, district_code from {{ ref('int_scope_areas') }}
),

plan_rows as (
    select kpi_id, scope_code, due_date, target_value from {{ ref('stg_reference__plan_targets') }}
),

own as (
    select p.kpi_id, p.scope_code, p.due_date, p.target_value
    from plan_rows as p
    inner join scopes as s on s.scope_code = p.scope_code
),

inherited as (
    select d.kpi_id, s.scope_code, d.due_date, d.target_value
    from plan_rows as d
    inner join catalogue as c on c.kpi_id = d.kpi_id and c.measure = 'rate'
    inner join scopes as s on s.scope_level = 'town' and s.district_code = d.scope_code
    where not exists (select 1 from own as o where o.kpi_id = d.kpi_id and o.scope_code = s.scope_code)
),

town_centres as (
    select 'K05_town_centre_coverage' as kpi_id, p.town_code as scope_code, p.due_date, cast(1 as double) as target_value
    from {{ ref('stg_reference__plan_projects') }} as p
    inner join scopes as s on s.scope_code = p.town_code
    where p.facility_type = '镇养老服务中心'
        and not exists (
            select 1 from own as o where o.kpi_id = 'K05_town_centre_coverage' and o.scope_code = p.town_code
        )
),

milestones as (
    select * from own
    union all
    select * from inherited
    union all
    select * from town_centres
),

defaults as (
    select c.kpi_id, s.scope_code, cast(null as date) as due_date, c.threshold as target_value
    from catalogue as c
    cross join scopes as s
    where c.threshold is not null
        and not exists (select 1 from milestones as m where m.kpi_id = c.kpi_id and m.scope_code = s.scope_code)
)

select m.kpi_id, m.scope_code, cast(m.due_date as date) as due_date, cast(m.target_value as double) as target_value
from milestones as m
inner join catalogue as c on c.kpi_id = m.kpi_id
union all
select kpi_id, scope_code, due_date, cast(target_value as double) from defaults
