-- The facilities in force per town and month: rows of the effective 机构设施 sheet, matched
-- to plan projects by name within the town (exactly after normalising, failing that after
-- dropping the town's name from the start), one row per facility (the first row counts).
with rows_in_force as (
    select
        f.*,
        {{ normalise_name('f.facility_name') }} as name_norm,
        {{ normalise_name('t.town_name') }} as town_name_norm
    from ({{ sheet_rows_in_force('facilities') }}) as f
    inner join {{ ref('dim_town') }} as t on t.town_code = f.town_code
    where f.facility_name is not null
),

named as (
    select *, {{ strip_town_prefix('name_norm', 'town_name_norm') }} as name_stripped
    from rows_in_force
),

matched as (
    select
        n.*,
        {{ matched_by_name('project_id', ref('int_plan_projects'), 'n') }} as project_id
    from named as n
),

keyed as (
    select
        *,
        coalesce(project_id, town_code || ':' || name_stripped) as facility_key,
        row_number() over (
            partition by town_code, month, coalesce(project_id, town_code || ':' || name_stripped)
            order by row_number
        ) as occurrence
    from matched
),

centre_min_area as (
    select build_mode, max(min_area_m2) as min_area_m2
    from {{ ref('stg_reference__plan_projects') }}
    where facility_type = '镇养老服务中心'
    group by build_mode
)

select
    k.town_code,
    k.month,
    k.facility_key,
    k.project_id,
    k.facility_name,
    k.name_norm,
    k.name_stripped,
    k.facility_type,
    k.build_mode,
    k.build_status,
    coalesce(k.build_status in {{ built_statuses() }}, false) as is_built,
    coalesce(k.facility_type = '敬老院' and k.build_status = '已运营', false) as is_operating_home,
    k.area_m2,
    coalesce(p.min_area_m2, c.min_area_m2) as min_area_m2,
    k.beds,
    k.nursing_beds,
    k.residents,
    k.tekun_residents,
    k.operation_mode,
    coalesce(k.operation_mode in {{ socialised_modes() }}, false) as is_socialised,
    k.operator,
    coalesce(trim(k.operator) <> '', false) as has_operator,
    k.is_legal_person_registered,
    k.is_filed,
    k.has_clinic,
    k.completion_date,
    k.file_id,
    k.row_number,
    k.source_month,
    k.is_stale
from keyed as k
left join {{ ref('int_plan_projects') }} as p on p.project_id = k.project_id
left join centre_min_area as c
    on k.facility_type = '镇养老服务中心' and c.build_mode = k.build_mode
where k.occurrence = 1
