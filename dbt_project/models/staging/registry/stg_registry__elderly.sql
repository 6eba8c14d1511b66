-- 农村老年人信息库 rows (every row of an export is active).
select
    cast(file_id as varchar) as file_id,
    cast(row_number as integer) as row_number,
    cast(export_date as date) as export_date,
    cast(id_number as varchar) as id_number,
    cast(person_name as varchar) as person_name,
    cast(person_key as varchar) as person_key,
    cast(town_code as varchar) as town_code,
    cast(village_name_code as varchar) as village_code,
    cast(living_situation as varchar) as living_situation,
    cast(left_behind as boolean) as is_left_behind,
    cast(ability_level as bigint) as ability_level,
    cast(family_planning_special as boolean) as is_family_planning_special,
    cast(smart_device as boolean) as has_smart_device
from {{ source('raw', 'registry_elderly') }}
