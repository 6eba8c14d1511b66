-- Overall town ranking per district and month: the mean of the town's ranks over the ranked
-- progress KPIs (those with town targets: K05, K09, K10, K13, K14, K15), ordered, ties by town code.
with mean_ranks as (
    select scope_code as town_code, district_code, month, avg(cast(rank as double)) as mean_rank
    from {{ ref('int_kpi__status') }}
    where rank is not null
    group by scope_code, district_code, month
)

select
    town_code,
    month,
    mean_rank,
    cast(row_number() over (partition by district_code, month order by mean_rank, town_code) as integer) as overall_rank,
    district_code
from mean_ranks
