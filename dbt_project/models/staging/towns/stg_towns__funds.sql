-- 资金情况 rows: one per payment, amounts in 元.
select
    cast(file_id as varchar) as file_id,
    cast(row_number as integer) as row_number,
    cast(town_code as varchar) as town_code,
    cast(month as date) as report_month,
    cast(project_name as varchar) as project_name,
    cast(fund_type as varchar) as fund_type,
    cast(amount_yuan as double) as amount_yuan,
    cast(amount_yuan_raw as varchar) as amount_text,
    cast(paid_date as date) as paid_date
from {{ source('raw', 'town_funds') }}
