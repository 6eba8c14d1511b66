-- A target's scope is one of the programme's towns or a district of them (a town's parent_code,
-- or the district_code var) in the division list and plan in use.
select t.kpi_id, t.scope_code
from {{ ref('stg_reference__plan_targets') }} as t
where t.scope_code <> '{{ var("district_code") }}'
    and not exists (
        select 1 from {{ ref('stg_reference__divisions') }} as d
        where d.level = 'town' and d.is_rural_scope and t.scope_code in (d.code, d.parent_code)
    )
