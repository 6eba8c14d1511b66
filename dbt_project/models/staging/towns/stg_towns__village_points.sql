-- 互助养老点 rows: one per village, plus sub-point (分点) rows.
select
    cast(file_id as varchar) as file_id,
    cast(row_number as integer) as row_number,
    cast(town_code as varchar) as town_code,
    cast(month as date) as report_month,
    cast(village_name as varchar) as village_name,
    cast(village_name_code as varchar) as village_code,
    cast(village_level as varchar) as village_level,
    cast(setup_mode as varchar) as setup_mode,
    cast(merge_into as varchar) as merge_into_village_name,
    cast(merge_into_code as varchar) as merge_into_village_code,
    cast(point_name as varchar) as point_name,
    cast(is_sub_point as boolean) as is_sub_point,
    cast(build_status as varchar) as build_status,
    cast(area_m2 as double) as area_m2,
    cast(assistants as bigint) as assistants,
    cast(has_elderly_association as boolean) as has_elderly_association,
    cast(volunteer_teams as bigint) as volunteer_teams,
    cast(meal_service as boolean) as has_meal_service,
    cast(completion_date as date) as completion_date,
    cast(equipment_subsidy_yuan as double) as equipment_subsidy_yuan,
    cast(equipment_subsidy_yuan_raw as varchar) as equipment_subsidy_text
from {{ source('raw', 'town_village_points') }}
