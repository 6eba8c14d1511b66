-- Every KPI for every programme town and month, with target, 序时进度, status and rank.
select
    s.scope_code as town_code,
    t.town_name,
    s.month,
    s.kpi_id,
    {{ kpi_status_columns('s') }},
    s.rank
from {{ ref('int_kpi__status') }} as s
inner join {{ ref('dim_town') }} as t on t.town_code = s.scope_code
