-- A target's scope is the district or one of the programme's towns.
select t.kpi_id, t.scope_code
from {{ ref('plan_targets') }} as t
left join {{ ref('divisions') }} as d
    on d.code = t.scope_code and d.level = 'town' and d.is_rural_scope
where d.code is null and t.scope_code <> '{{ var("district_code") }}'
