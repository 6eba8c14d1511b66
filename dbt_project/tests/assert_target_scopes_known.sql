-- A target's scope is one of the programme's towns, a district of them (a town's parent_code)
-- in the division list and plan in use, or the city as a whole ('city').
select t.kpi_id, t.scope_code
from {{ ref('stg_reference__plan_targets') }} as t
where t.scope_code <> 'city'
    and not exists (
        select 1 from {{ ref('stg_reference__divisions') }} as d
        where d.level = 'town' and d.is_rural_scope and t.scope_code in (d.code, d.parent_code)
    )
