-- Overall district ranking of the city per month: the mean of the district's ranks over the
-- progress KPIs with district targets, ordered, ties by district code (one district: rank 1).
select
    r.scope_code as district_code,
    d.district_name,
    r.month,
    r.mean_rank,
    r.ranked_kpi_count,
    r.overall_rank
from {{ ref('int_kpi__overall_ranks') }} as r
left join (select distinct district_code, district_name from {{ ref('kpi_district_monthly') }}) as d
    on d.district_code = r.scope_code
where r.scope_level = 'district'
