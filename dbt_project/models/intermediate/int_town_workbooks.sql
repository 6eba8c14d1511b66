-- Each town's workbook in force for its own report month (the latest non-superseded one),
-- and whether the month's earliest accepted workbook was on time (K30).
with accepted as (
    select *
    from {{ ref('stg_ingest__files') }}
    where file_kind = 'town_workbook' and file_status in ('loaded', 'superseded') and town_code is not null
),

ranked as (
    select
        *,
        row_number() over (
            partition by town_code, report_month
            order by case when file_status = 'loaded' then 0 else 1 end,
                submission_date desc nulls last, modified_at desc nulls last, file_name desc
        ) as recency
    from accepted
),

earliest as (
    select town_code, report_month, min(submission_date) as first_submission_date
    from accepted
    group by town_code, report_month
)

select
    r.town_code,
    r.report_month,
    r.file_id,
    e.first_submission_date,
    coalesce(
        e.first_submission_date
        <= {{ add_days(next_month_start('r.report_month'), submission_deadline_day() ~ ' - 1') }},
        false
    ) as is_on_time
from ranked as r
inner join earliest as e on e.town_code = r.town_code and e.report_month = r.report_month
where r.recency = 1
