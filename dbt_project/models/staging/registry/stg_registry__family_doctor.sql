-- 家庭医生签约 rows.
select
    cast(file_id as varchar) as file_id,
    cast(row_number as integer) as row_number,
    cast(export_date as date) as export_date,
    cast(person_key as varchar) as person_key,
    cast(contract_date as date) as contract_date,
    cast(contract_status as varchar) as contract_status
from {{ source('raw', 'registry_family_doctor') }}
