-- The version of each sheet in force per town and month: the sheet of the month's own workbook
-- when accepted, else the town's latest accepted version from an earlier month (carried
-- forward: stale). file_id is null when the town never sent an accepted version.
with sheet_kinds as (
    select sheet_kind from (values ('facilities'), ('village_points'), ('pairings'), ('trainings'), ('funds')) as k (sheet_kind)
),

accepted_versions as (
    select w.town_code, w.report_month, s.sheet_kind, w.file_id
    from {{ ref('int_town_workbooks') }} as w
    inner join {{ ref('stg_ingest__sheets') }} as s
        on s.file_id = w.file_id and s.sheet_status = 'loaded'
),

candidates as (
    select
        tm.town_code,
        tm.month,
        tm.has_workbook,
        k.sheet_kind,
        v.file_id,
        v.report_month as source_month,
        row_number() over (
            partition by tm.town_code, tm.month, k.sheet_kind order by v.report_month desc nulls last
        ) as recency
    from {{ ref('int_town_months') }} as tm
    cross join sheet_kinds as k
    left join accepted_versions as v
        on v.town_code = tm.town_code and v.sheet_kind = k.sheet_kind and v.report_month <= tm.month
)

select
    town_code,
    month,
    sheet_kind,
    file_id,
    source_month,
    not has_workbook or source_month is null or source_month < month as is_stale
from candidates
where recency = 1
