-- Targets, 序时进度 (expected), traffic-light status and ranks (towns within their district, districts
-- within the city) for every KPI row (docs/kpis.md; the status limits are the status_limits var of dbt_project.yml).
-- Target: the earliest milestone due on or after the month's last day, else the last one.
-- Expected (progress KPIs): the straight line, in calendar days, from 0 at the plan's start
-- date (or from a milestone dated on or before it, the baseline) through the milestones,
-- flat at the last milestone after it. Statuses compare values rounded to 6 decimals.
with kpi_rows as (
    select a.*, m.month_end, c.kind
    from {{ ref('int_kpi__all_scopes') }} as a
    inner join {{ ref('int_months') }} as m on m.month = a.month
    inner join {{ ref('kpi_catalogue') }} as c on c.kpi_id = a.kpi_id
),

plan_start as (
    select min(start_date) as start_date from {{ ref('stg_reference__plan') }}
),

milestones as (
    select * from {{ ref('int_kpi__milestones') }}
),

applicable as (
    select
        r.scope_code,
        r.month,
        r.kpi_id,
        ms.due_date,
        ms.target_value,
        row_number() over (
            partition by r.scope_code, r.month, r.kpi_id
            order by case when ms.due_date >= r.month_end then ms.due_date end asc nulls last, ms.due_date desc nulls last
        ) as choice
    from kpi_rows as r
    inner join milestones as ms on ms.kpi_id = r.kpi_id and ms.scope_code = r.scope_code
),

last_milestone as (
    select kpi_id, scope_code, target_value as last_value
    from (
        select
            *,
            row_number() over (partition by kpi_id, scope_code order by due_date desc nulls last) as recency
        from milestones
    ) as ranked
    where recency = 1
),

dated_scopes as (
    select distinct kpi_id, scope_code from milestones where due_date is not null
),

baseline as (
    select
        d.kpi_id,
        d.scope_code,
        ps.start_date as point_date,  -- a baseline dated before the start still starts the line at the start
        coalesce(b.target_value, 0) as point_value
    from dated_scopes as d
    cross join plan_start as ps
    left join (
        select
            ms.*,
            row_number() over (partition by ms.kpi_id, ms.scope_code order by ms.due_date desc) as recency
        from milestones as ms
        cross join plan_start as ps
        where ms.due_date <= ps.start_date
    ) as b on b.kpi_id = d.kpi_id and b.scope_code = d.scope_code and b.recency = 1
),

line_points as (
    select kpi_id, scope_code, point_date, point_value from baseline
    union all
    select ms.kpi_id, ms.scope_code, ms.due_date, ms.target_value
    from milestones as ms
    cross join plan_start as ps
    where ms.due_date > ps.start_date
),

previous_point as (
    select r.scope_code, r.month, r.kpi_id, p.point_date, p.point_value,
        row_number() over (partition by r.scope_code, r.month, r.kpi_id order by p.point_date desc) as nearness
    from kpi_rows as r
    inner join line_points as p
        on p.kpi_id = r.kpi_id and p.scope_code = r.scope_code and p.point_date < r.month_end
),

next_point as (
    select r.scope_code, r.month, r.kpi_id, p.point_date, p.point_value,
        row_number() over (partition by r.scope_code, r.month, r.kpi_id order by p.point_date asc) as nearness
    from kpi_rows as r
    inner join line_points as p
        on p.kpi_id = r.kpi_id and p.scope_code = r.scope_code and p.point_date >= r.month_end
),

targeted as (
    select
        r.*,
        t.target_value as target,
        t.due_date,
        l.last_value,
        case
            when r.kind <> 'progress' or t.target_value is null then null
            when n.point_date is null then l.last_value
            when p.point_date is null then n.point_value
            else p.point_value + (n.point_value - p.point_value)
                * {{ days_between('p.point_date', 'r.month_end') }} / {{ days_between('p.point_date', 'n.point_date') }}
        end as expected
    from kpi_rows as r
    left join applicable as t
        on t.scope_code = r.scope_code and t.month = r.month and t.kpi_id = r.kpi_id and t.choice = 1
        and r.kind <> 'info'
    left join last_milestone as l on l.kpi_id = r.kpi_id and l.scope_code = r.scope_code
    left join previous_point as p
        on p.scope_code = r.scope_code and p.month = r.month and p.kpi_id = r.kpi_id and p.nearness = 1
    left join next_point as n
        on n.scope_code = r.scope_code and n.month = r.month and n.kpi_id = r.kpi_id and n.nearness = 1
),

{%- set limits = var('status_limits') %}
statused as (
    select
        *,
        case
            when value is null then 'na'
            when kind = 'info' or target is null then 'info'
            when kind = 'progress' then
                case
                    when round(value, 6) >= round(last_value, 6) then 'done'
                    -- a milestone of 0 (nothing due yet) leaves no ratio: on or ahead of the line is green
                    when target = 0 then case when round(value, 6) >= round(expected, 6) then 'green' else 'red' end
                    when round((round(value, 6) - round(expected, 6)) / nullif(target, 0), 6)
                        >= {{ limits.progress_green_gap }} then 'green'
                    when round((round(value, 6) - round(expected, 6)) / nullif(target, 0), 6)
                        >= {{ limits.progress_yellow_gap }} then 'yellow'
                    else 'red'
                end
            when round(value, 6) >= round(target, 6) then 'green'
            when round(value, 6) >= round(target - {{ limits.threshold_yellow_margin }}, 6) then 'yellow'
            else 'red'
        end as status
    from targeted
),

ranking_groups as (
    -- Towns are ranked among the towns of their district, districts among the districts of the city.
    select
        *,
        case scope_level when 'town' then district_code when 'district' then 'city' end as ranking_group
    from statused
    where scope_level in ('town', 'district')
),

ranked_kpis as (
    -- Progress KPIs with targets in the month (at the group's level) are ranked.
    select ranking_group, kpi_id, month
    from ranking_groups
    where kind = 'progress' and target is not null
    group by ranking_group, kpi_id, month
),

ranks as (
    select
        s.scope_code,
        s.month,
        s.kpi_id,
        row_number() over (
            partition by s.ranking_group, s.kpi_id, s.month
            -- completion, then the absolute figure behind it (the numerator: 23 of 23 villages before
            -- 4 of 4), then the code
            order by round(s.value / nullif(s.target, 0), 6) desc nulls last, s.numerator desc nulls last,
                s.scope_code
        ) as scope_rank
    from ranking_groups as s
    inner join ranked_kpis as k on k.ranking_group = s.ranking_group and k.kpi_id = s.kpi_id and k.month = s.month
)

select
    s.scope_level,
    s.scope_code,
    s.district_code,
    s.month,
    s.kpi_id,
    s.kind,
    s.numerator,
    s.denominator,
    s.value,
    s.target,
    s.due_date,
    cast(s.expected as double) as expected,
    s.status,
    s.is_stale as stale,
    cast(r.scope_rank as integer) as rank
from statused as s
left join ranks as r on r.scope_code = s.scope_code and r.month = s.month and r.kpi_id = s.kpi_id
