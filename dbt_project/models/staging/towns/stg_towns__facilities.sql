-- 机构设施 rows: one per town-level facility.
select
    cast(file_id as varchar) as file_id,
    cast(row_number as integer) as row_number,
    cast(town_code as varchar) as town_code,
    cast(month as date) as report_month,
    cast(facility_name as varchar) as facility_name,
    cast(facility_type as varchar) as facility_type,
    cast(build_mode as varchar) as build_mode,
    cast(host_facility as varchar) as host_facility,
    cast(build_status as varchar) as build_status,
    cast(area_m2 as double) as area_m2,
    cast(beds as bigint) as beds,
    cast(nursing_beds as bigint) as nursing_beds,
    cast(residents as bigint) as residents,
    cast(tekun_residents as bigint) as tekun_residents,
    cast(operation_mode as varchar) as operation_mode,
    cast(operator as varchar) as operator,
    cast(legal_person_registered as boolean) as is_legal_person_registered,
    cast(filed as boolean) as is_filed,
    cast(has_clinic as boolean) as has_clinic,
    cast(start_date as date) as start_date,
    cast(completion_date as date) as completion_date
from {{ source('raw', 'town_facilities') }}
