-- The areas above the towns that KPIs are also computed for, one row per programme town and
-- area it belongs to: its district (scope_code = district code) and the city, i.e. the
-- warehouse as a whole (scope_code = 'city'; docs/decisions.md).
select town_code, 'district' as scope_level, district_code as scope_code, district_code
from {{ ref('int_scope_towns') }}
union all
select town_code, 'city', 'city', cast(null as string)
from {{ ref('int_scope_towns') }}
