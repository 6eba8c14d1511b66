-- 结对扶老 rows: one per older person paired. The ID stays here only as its person key.
select
    cast(file_id as varchar) as file_id,
    cast(row_number as integer) as row_number,
    cast(town_code as varchar) as town_code,
    cast(month as date) as report_month,
    cast(person_key as varchar) as person_key,
    cast(village_name_code as varchar) as village_code,
    cast(pairing_mode as varchar) as pairing_mode,
    cast(pairing_date as date) as pairing_date,
    cast(visits_this_month as bigint) as visits_this_month
from {{ source('raw', 'town_pairings') }}
