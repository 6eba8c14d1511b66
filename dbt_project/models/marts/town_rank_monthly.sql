-- Overall town ranking per district and month: the mean of the town's ranks over the ranked
-- progress KPIs (those with town targets: K05, K09, K10, K13, K14, K15), ordered, ties by town code.
select
    scope_code as town_code,
    month,
    mean_rank,
    overall_rank,
    district_code
from {{ ref('int_kpi__overall_ranks') }}
where scope_level = 'town'
