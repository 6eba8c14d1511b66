-- One row per programme town and reporting month: the workbook the town sent for the month
-- (null when it sent nothing: the town is stale for the month).
select
    t.town_code,
    t.town_name,
    t.village_count,
    m.month,
    m.month_end,
    m.month_number,
    w.file_id as workbook_file_id,
    w.file_id is not null as has_workbook,
    coalesce(w.is_on_time, false) as is_on_time
from {{ ref('int_scope_towns') }} as t
cross join {{ ref('int_months') }} as m
left join {{ ref('int_town_workbooks') }} as w
    on w.town_code = t.town_code and w.report_month = m.month
