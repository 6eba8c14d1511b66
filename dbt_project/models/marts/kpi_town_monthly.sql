-- Every KPI for every programme town and month, with target, 序时进度, status and rank.
select
    s.scope_code as town_code,
    t.town_name,
    s.month,
    s.kpi_id,
    s.numerator,
    s.denominator,
    s.value,
    s.target,
    s.due_date,
    s.expected,
    s.status,
    s.stale,
    s.rank
from {{ ref('int_kpi__status') }} as s
inner join {{ ref('dim_town') }} as t on t.town_code = s.scope_code
