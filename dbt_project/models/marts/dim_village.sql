-- Villages (村) and communities (社区) with the short name towns type in spreadsheets.
select
    code as village_code,
    name as village_name,
    {{ village_short_name('name') }} as short_name,
    level,
    parent_code as town_code,
    coalesce(is_rural_scope, false) as is_rural_scope
from {{ ref('stg_reference__divisions') }}
where level in ('village', 'community')
