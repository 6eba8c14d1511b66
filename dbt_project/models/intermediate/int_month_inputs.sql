-- What each month's rows of the month-by-month models are built from (macros/incremental_months.sql):
-- the month's workbooks, the sheet versions in force (carried ones included) and the registry
-- exports in force, as one text. A month whose text changed since its last build is rebuilt.
with inputs as (
    select month, 'workbook:' || town_code || ':' || file_id as input
    from {{ ref('int_town_workbooks') }} as w
    inner join {{ ref('int_months') }} as m on m.month = w.report_month
    union all
    select month, 'sheet:' || town_code || ':' || sheet_kind || ':' || coalesce(file_id, '-') || ':'
        || cast(is_stale as string)
    from {{ ref('int_effective_sheets') }}
    union all
    select month, 'registry:' || registry || ':' || file_id
    from {{ ref('int_effective_registries') }}
)

select
    m.month,
    coalesce({{ sorted_text_list('i.input') }}, '') as inputs
from {{ ref('int_months') }} as m
left join inputs as i on i.month = m.month
group by m.month
