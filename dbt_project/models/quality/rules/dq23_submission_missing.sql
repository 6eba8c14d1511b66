-- DQ23_submission_missing: no workbook from the town for the month by the 5th of the next
-- month (none at all, or the earliest accepted one came later). Decided from the data alone:
-- raised for month M only once the latest submission date in the inbox is after the 5th of M+1.
with latest_submission as (
    select max(submission_date) as latest_date
    from {{ ref('stg_ingest__files') }}
    where file_kind = 'town_workbook'
),

late_or_missing as (
    select
        tm.town_code,
        tm.town_name,
        tm.month,
        w.file_id,
        w.first_submission_date,
        {{ add_days(next_month_start('tm.month'), submission_deadline_day() ~ ' - 1') }} as deadline
    from {{ ref('int_town_months') }} as tm
    cross join latest_submission as l
    left join {{ ref('int_town_workbooks') }} as w on w.town_code = tm.town_code and w.report_month = tm.month
    where not tm.is_on_time
        and l.latest_date > {{ add_days(next_month_start('tm.month'), submission_deadline_day() ~ ' - 1') }}
),

found as (
    select
        town_code,
        month,
        file_id,
        cast(null as string) as sheet,
        cast(null as integer) as row_number,
        cast(null as string) as column_name,
        cast(first_submission_date as string) as value,
        case when file_id is null
            then town_name || '未报送' || {{ quality_month_zh('month') }} || '进度表（截止' || {{ quality_month_day_zh('deadline') }} || '）'
            else town_name || '的' || {{ quality_month_zh('month') }} || '进度表于' || {{ quality_month_day_zh('first_submission_date') }}
                || '报送，晚于截止日期' || {{ quality_month_day_zh('deadline') }}
        end as what_zh,
        case when file_id is null
            then 'no workbook for ' || {{ quality_month_en('month') }} || ' (due ' || cast(deadline as string) || ')'
            else 'the workbook for ' || {{ quality_month_en('month') }} || ' arrived on ' || cast(first_submission_date as string)
                || ', after the deadline ' || cast(deadline as string)
        end as what_en
    from late_or_missing
)

{{ quality_findings('DQ23_submission_missing') }}
