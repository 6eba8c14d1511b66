-- The overall ranking of towns (within their district) and of districts (within the city) per
-- month: the order of each scope's mean rank over the KPIs it is ranked on in int_kpi__status
-- (the progress KPIs with targets at its level), ties by code.
with mean_ranks as (
    select
        scope_level,
        scope_code,
        district_code,
        case scope_level when 'town' then district_code else 'city' end as ranking_group,
        month,
        avg(cast(rank as double)) as mean_rank,
        count(*) as ranked_kpi_count
    from {{ ref('int_kpi__status') }}
    where rank is not null
    group by scope_level, scope_code, district_code, month
)

select
    scope_level,
    scope_code,
    district_code,
    month,
    mean_rank,
    cast(ranked_kpi_count as integer) as ranked_kpi_count,
    cast(row_number() over (partition by ranking_group, month order by mean_rank, scope_code) as integer)
        as overall_rank
from mean_ranks
