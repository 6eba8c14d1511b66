-- Every KPI for every district (the programme towns' parent_code: 渝北区 alone for Yubei) and
-- month, with target, 序时进度 and status. The name is the plan's for the district's code.
with district_names as (
    select scope_code as district_code, min(scope_name) as district_name
    from {{ ref('stg_reference__plan_targets') }}
    group by scope_code
)

select
    s.scope_code as district_code,
    coalesce(n.district_name, s.scope_code) as district_name,
    s.month,
    s.kpi_id,
    {{ kpi_status_columns('s') }}
from {{ ref('int_kpi__status') }} as s
left join district_names as n on n.district_code = s.scope_code
where s.scope_level = 'district'
