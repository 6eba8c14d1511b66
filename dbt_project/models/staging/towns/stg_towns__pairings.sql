-- 结对扶老 rows: one per older person paired. KPIs count people by person key; the ID number
-- is here for the quality rules, which show it masked.
select
    cast(file_id as varchar) as file_id,
    cast(row_number as integer) as row_number,
    cast(town_code as varchar) as town_code,
    cast(month as date) as report_month,
    cast(id_number as varchar) as id_number,
    cast(person_key as varchar) as person_key,
    cast(village_name_code as varchar) as village_code,
    cast(pairing_mode as varchar) as pairing_mode,
    cast(pairing_date as date) as pairing_date,
    cast(visits_this_month as bigint) as visits_this_month
from {{ source('raw', 'town_pairings') }}
