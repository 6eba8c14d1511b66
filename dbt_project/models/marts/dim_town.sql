-- The district's 30 town-level units (街道 and 镇), flagged for the programme's 11.
select
    code as town_code,
    name as town_name,
    case
        when name like '%街道' then '街道'
        when name like '%镇' then '镇'
        when name like '%乡' then '乡'
        else '其他'
    end as town_type,
    parent_code as district_code,
    coalesce(is_rural_scope, false) as is_rural_scope
from {{ ref('stg_reference__divisions') }}
where level = 'town'
