-- The reporting months: from the earliest report month of any loaded workbook to the latest.
with bounds as (
    select min(report_month) as first_month, max(report_month) as last_month
    from {{ ref('stg_ingest__files') }}
    where file_kind = 'town_workbook' and file_status in ('loaded', 'superseded')
),

months as (
    select {{ month_series('first_month', 'last_month') }} as month
    from bounds
    where first_month is not null
)

select
    month,
    {{ month_end('month') }} as month_end,
    cast(extract(month from month) as integer) as month_number
from months
