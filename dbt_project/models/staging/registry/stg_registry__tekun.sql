-- 特困人员名册 rows.
select
    cast(file_id as varchar) as file_id,
    cast(row_number as integer) as row_number,
    cast(export_date as date) as export_date,
    cast(id_number as varchar) as id_number,
    cast(person_name as varchar) as person_name,
    cast(person_key as varchar) as person_key,
    cast(town_code as varchar) as town_code,
    cast(village_name_code as varchar) as village_code,
    cast(support_mode as varchar) as support_mode,
    cast(self_care as varchar) as self_care,
    cast(institution as varchar) as institution,
    cast(annual_allowance_yuan as double) as annual_allowance_yuan,
    cast(person_status as varchar) as person_status
from {{ source('raw', 'registry_tekun') }}
