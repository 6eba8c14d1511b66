-- The reporting months: from the earliest report month of any loaded workbook to the latest.
with bounds as (
    select min(report_month) as first_month, max(report_month) as last_month
    from {{ ref('stg_ingest__files') }}
    where file_kind = 'town_workbook' and file_status in ('loaded', 'superseded')
)
select
    months.month,
    {{ month_end('months.month') }} as month_end,
    cast(extract(month from months.month) as integer) as month_number
from bounds
cross join {{ month_series('bounds.first_month', 'bounds.last_month') }} as months
where bounds.first_month is not null
