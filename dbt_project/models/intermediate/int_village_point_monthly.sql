-- Every administrative village (村) of a programme town per month, described by the
-- 互助养老点 sheet in force: its main row (the first row that is not a sub-point), the
-- assistants on any of its counted rows, and whether it is covered and meets the "three ones".
-- Only months where the town has a version of the sheet appear.
-- Rows resolved to a 村 of the town; 社区 and unmatched (DQ08) rows count nowhere.
with village_rows as (
    select
        p.*,
        coalesce(p.is_sub_point, false) as is_sub_point_row,  -- empty means a main row
        row_number() over (
            partition by p.town_code, p.month, p.village_code, coalesce(p.is_sub_point, false)
            order by p.row_number
        ) as occurrence
    from ({{ sheet_rows_in_force('village_points') }}) as p
    where p.village_level = 'village' and p.village_code is not null
),

-- Sub-points and the village's first main row. A second main row of the same village is a
-- DQ19 duplicate and counts nowhere, not even for K13's assistants (decisions.md).
counted_rows as (
    select *
    from village_rows
    where is_sub_point_row or occurrence = 1
),

main_rows as (
    select *
    from counted_rows
    where not is_sub_point_row
),

any_row as (
    select town_code, month, village_code, max(assistants) as max_assistants, count(*) as row_count
    from counted_rows
    group by town_code, month, village_code
),

villages as (
    select
        s.town_code,
        s.month,
        s.is_stale,
        v.village_code,
        v.village_name,
        m.setup_mode,
        m.merge_into_village_code,
        m.point_name,
        m.build_status,
        m.area_m2,
        m.assistants,
        m.has_elderly_association,
        m.volunteer_teams,
        m.equipment_subsidy_yuan,
        m.row_number as main_row_number,
        coalesce(a.row_count, 0) as row_count,
        coalesce(a.max_assistants, 0) as max_assistants_any_row,
        coalesce(m.setup_mode in {{ own_point_modes() }} and m.build_status in {{ built_statuses() }}, false)
            as has_built_own_point
    from {{ ref('int_effective_sheets') }} as s
    inner join {{ ref('dim_village') }} as v on v.town_code = s.town_code and v.level = 'village'
    left join main_rows as m
        on m.town_code = s.town_code and m.month = s.month and m.village_code = v.village_code
    left join any_row as a
        on a.town_code = s.town_code and a.month = s.month and a.village_code = v.village_code
    where s.sheet_kind = 'village_points' and s.file_id is not null
)

select
    v.*,
    coalesce(v.setup_mode = '单独设立' and v.has_built_own_point, false) as has_built_standalone_point,
    v.row_count > 0 as is_reported,
    coalesce(
        v.has_built_own_point
        or (v.setup_mode = '合并设置' and host.has_built_own_point)
        or v.setup_mode in {{ no_point_needed_modes() }},
        false
    ) as is_covered,
    coalesce(
        v.has_elderly_association and v.max_assistants_any_row >= 1 and v.volunteer_teams >= 1,
        false
    ) as meets_three_ones
from villages as v
left join villages as host
    on host.town_code = v.town_code and host.month = v.month and host.village_code = v.merge_into_village_code
