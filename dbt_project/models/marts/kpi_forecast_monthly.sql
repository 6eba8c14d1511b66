-- Early warning (预警): for each programme town, month and progress KPI with a milestone due on
-- or after the month's last day (the next one, kpi_town_monthly's target), the value projected
-- at the milestone's due date by a linear projection of the last three months' pace:
-- pace = (value − value three months earlier) ÷ 3, projected = value + pace × months left.
with progress as (
    select
        scope_code as town_code,
        month,
        kpi_id,
        value,
        target,
        due_date,
        count(value) over (partition by scope_code, kpi_id order by month rows unbounded preceding) as months_of_history
    from {{ ref('int_kpi__status') }}
    where kind = 'progress' and scope_level = 'town'
),

paced as (
    select
        p.*,
        (p.value - earlier.value) / 3.0 as pace_per_month,
        {{ months_between('p.month', 'p.due_date') }} as months_left
    from progress as p
    left join progress as earlier
        on earlier.town_code = p.town_code and earlier.kpi_id = p.kpi_id
        and earlier.month = {{ add_months('p.month', -3) }}
    where p.target is not null and p.due_date >= {{ month_end('p.month') }}
),

projected as (
    select *, value + pace_per_month * months_left as projected_value
    from paced
),

forecast as (
    select
        *,
        case
            when value is null then '数据不足'
            when round(value, 6) >= round(target, 6) then '已完成'
            when pace_per_month is null then '数据不足'
            when round(projected_value, 6) >= round(target, 6) then '预计按期'
            else '预计逾期'
        end as forecast_status
    from projected
)

select
    f.town_code,
    t.town_name,
    f.month,
    f.kpi_id,
    k.name_zh as kpi_name_zh,
    f.value,
    f.due_date as milestone_due_date,
    f.target as milestone_target,
    cast(f.months_of_history as integer) as months_of_history,
    cast(f.pace_per_month as double) as pace_per_month,
    cast(f.projected_value as double) as projected_value,
    case
        when f.forecast_status = '已完成' then f.month
        when f.pace_per_month > 0
            then {{ add_months('f.month', 'cast(ceil(round((f.target - f.value) / f.pace_per_month, 6)) as integer)') }}
    end as expected_completion_month,
    f.forecast_status,
    f.forecast_status = '预计逾期' as is_forecast_late
from forecast as f
inner join {{ ref('dim_town') }} as t on t.town_code = f.town_code
inner join {{ ref('dim_kpi') }} as k on k.kpi_id = f.kpi_id
