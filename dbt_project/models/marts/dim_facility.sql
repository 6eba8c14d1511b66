-- Every town-level facility ever reported (or named by the plan): its key, town, name,
-- type and plan project. Keyed by the plan project when matched, else town + name.
with reported as (
    select
        facility_key,
        town_code,
        project_id,
        facility_name,
        facility_type,
        month,
        row_number() over (partition by facility_key order by month desc) as recency
    from {{ ref('int_facility_monthly') }}
),

latest as (
    select facility_key, town_code, project_id, facility_name, facility_type
    from reported
    where recency = 1
),

first_seen as (
    select facility_key, min(month) as first_month, max(month) as last_month
    from reported
    group by facility_key
)

select
    l.facility_key,
    l.town_code,
    l.project_id,
    coalesce(p.facility_name, l.facility_name) as facility_name,
    coalesce(p.facility_type, l.facility_type) as facility_type,
    f.first_month,
    f.last_month
from latest as l
inner join first_seen as f on f.facility_key = l.facility_key
left join {{ ref('stg_reference__plan_projects') }} as p on p.project_id = l.project_id
