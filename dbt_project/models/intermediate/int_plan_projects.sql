-- The plan's projects (every column of plan_projects.csv) with their names normalised for
-- matching reported rows, and the minimum area each centre must reach (a centre the plan does
-- not name takes the plan's minimum for centres of the same build mode).
with projects as (
    select
        p.*,
        {{ normalise_name('p.facility_name') }} as name_norm,
        {{ strip_town_prefix(normalise_name('p.facility_name'), normalise_name('t.town_name')) }} as name_stripped
    from {{ ref('stg_reference__plan_projects') }} as p
    left join {{ ref('dim_town') }} as t on t.town_code = p.town_code
)

select
    *,
    -- C01, C06-C11: centres renovated inside an existing nursing home (K24).
    facility_type = '镇养老服务中心' and build_mode = '改建'
    and exists (
        select 1 from {{ ref('stg_reference__plan_projects') }} as host
        where host.town_code = projects.town_code
            and host.facility_name = projects.host_facility
            and host.facility_type = '敬老院'
    ) as is_centre_in_nursing_home
from projects
