-- 培训情况 rows: one per person per training.
select
    cast(file_id as varchar) as file_id,
    cast(row_number as integer) as row_number,
    cast(town_code as varchar) as town_code,
    cast(month as date) as report_month,
    cast(person_key as varchar) as person_key,
    cast(training_category as varchar) as training_category,
    cast(training_date as date) as training_date,
    cast(hours as double) as hours,
    cast(certified as boolean) as is_certified,
    cast(certificate_no as varchar) as certificate_no
from {{ source('raw', 'town_trainings') }}
