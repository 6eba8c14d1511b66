-- Each plan project per month: the status its town reports for it (matched by facility name
-- in the 机构设施 sheet in force), whether it is built (已撤并 for a 撤并 project), and whether it
-- is overdue (due date passed and not built).
select
    p.project_id,
    tm.month,
    f.build_status as reported_status,
    case
        when p.build_mode = '撤并' then coalesce(f.build_status = '已撤并', false)
        else coalesce(f.is_built, false)
    end as built,
    coalesce(
        p.due_date < tm.month_end
        and not case
            when p.build_mode = '撤并' then coalesce(f.build_status = '已撤并', false)
            else coalesce(f.is_built, false)
        end,
        false
    ) as overdue,
    tm.is_stale as stale
from {{ ref('int_plan_projects') }} as p
inner join ({{ sheet_in_force('facilities', ['month_end']) }}) as tm on tm.town_code = p.town_code
left join {{ ref('int_facility_monthly') }} as f
    on f.town_code = tm.town_code and f.month = tm.month and f.project_id = p.project_id
