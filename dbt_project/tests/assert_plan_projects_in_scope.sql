-- Every plan project belongs to one of the programme's towns (of the division list in use).
select p.project_id
from {{ ref('stg_reference__plan_projects') }} as p
left join {{ ref('stg_reference__divisions') }} as d
    on d.code = p.town_code and d.level = 'town' and d.is_rural_scope
where d.code is null
