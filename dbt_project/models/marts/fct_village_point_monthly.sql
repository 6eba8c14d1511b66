-- Each administrative village of a programme town per month, as the 互助养老点 sheet in force
-- describes it: its point (main row), coverage and the "three ones".
select
    village_code,
    town_code,
    month,
    is_reported,
    setup_mode,
    merge_into_village_code,
    build_status,
    area_m2,
    assistants,
    max_assistants_any_row,
    has_elderly_association,
    volunteer_teams,
    equipment_subsidy_yuan,
    has_built_own_point,
    has_built_standalone_point,
    is_covered,
    meets_three_ones,
    is_stale as stale
from {{ ref('int_village_point_monthly') }}
