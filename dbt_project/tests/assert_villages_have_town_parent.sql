-- Every village or community hangs under a town-level unit of the list.
select v.code
from {{ ref('divisions') }} as v
left join {{ ref('divisions') }} as t
    on t.code = v.parent_code and t.level = 'town'
where v.level in ('village', 'community') and t.code is null
