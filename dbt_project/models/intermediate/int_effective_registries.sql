-- The registry export in force per month: the latest export dated on or before the month's last day.
with exports as (
    select *
    from {{ ref('stg_ingest__files') }}
    where file_kind = 'registry' and file_status = 'loaded' and export_date is not null
),

candidates as (
    select
        e.registry,
        m.month,
        e.file_id,
        e.export_date,
        row_number() over (
            partition by e.registry, m.month
            order by e.export_date desc, e.modified_at desc nulls last, e.file_name desc
        ) as recency
    from {{ ref('int_months') }} as m
    inner join exports as e on e.export_date <= m.month_end
)

select registry, month, file_id, export_date
from candidates
where recency = 1
