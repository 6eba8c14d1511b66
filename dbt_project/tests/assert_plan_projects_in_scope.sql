-- Every plan project belongs to one of the programme's 11 towns.
select p.project_id
from {{ ref('plan_projects') }} as p
left join {{ ref('divisions') }} as d
    on d.code = p.town_code and d.level = 'town' and d.is_rural_scope
where d.code is null
