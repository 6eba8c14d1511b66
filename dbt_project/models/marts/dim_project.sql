-- The plan's named projects (plan_projects.csv), including the existing homes centres are built in.
select
    project_id,
    town_code,
    town_name,
    facility_name,
    facility_type,
    build_mode,
    host_facility,
    min_area_m2,
    due_date,
    merge_into
from {{ ref('stg_reference__plan_projects') }}
