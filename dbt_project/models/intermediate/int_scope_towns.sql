-- The programme's towns, their district (the division list's parent_code) and how many
-- administrative villages (村) each has in the reference.
select
    t.town_code,
    t.town_name,
    t.district_code,
    count(v.village_code) as village_count
from {{ ref('dim_town') }} as t
left join {{ ref('dim_village') }} as v
    on v.town_code = t.town_code and v.level = 'village'
where t.is_rural_scope
group by t.town_code, t.town_name, t.district_code
