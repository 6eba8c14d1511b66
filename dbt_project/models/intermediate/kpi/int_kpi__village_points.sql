{{ config(materialized='view') }}  -- read once, by int_kpi__all_scopes (docs/decisions.md)
-- K09-K13 and K25, per town and month, from the 互助养老点 sheet in force.
-- K09, K11, K12 count villages' main rows; K13 takes assistants from any of the village's
-- counted rows; K25 takes every point and sub-point row on its own. Only rows resolved to a
-- 村 count: 社区 and unmatched (DQ08) rows count nowhere, nor does a second main row of the
-- same village (DQ19), as decisions.md reads "Village rows".
with sheet as (
    {{ sheet_in_force('village_points', ['village_count']) }}
),

per_town as (
    select
        town_code,
        month,
        sum(case when has_built_own_point then 1 else 0 end) as points_built,
        sum(case when is_covered then 1 else 0 end) as villages_covered,
        sum(case when has_built_standalone_point and area_m2 >= {{ point_min_area_m2() }} then 1 else 0 end)
            as standalone_area_ok,
        sum(case when has_built_standalone_point then 1 else 0 end) as standalone_built,
        sum(case when has_built_own_point and assistants >= 1 then 1 else 0 end) as points_staffed,
        sum(case when meets_three_ones then 1 else 0 end) as villages_three_ones
    from {{ ref('int_village_point_monthly') }}
    group by town_code, month
),

-- K25: the point rows with a 设备购置补助 (macros/point_subsidy_rows.sql).
subsidy_rows as (
    select
        town_code,
        month,
        sum(case when equipment_subsidy_yuan <= {{ point_equipment_cap_yuan() }} then 1 else 0 end) as rows_within_cap,
        count(*) as rows_with_subsidy
    from ({{ point_subsidy_rows() }}) as p
    group by town_code, month
)

{{ kpi_rows('sheet', [
    ('K09_village_points_built', 'points_built', none),
    ('K10_village_coverage', 'villages_covered', 'village_count'),
    ('K11_point_area_compliance', 'standalone_area_ok', 'standalone_built'),
    ('K12_point_assistant_staffing', 'points_staffed', 'points_built'),
    ('K13_village_three_ones', 'villages_three_ones', 'village_count'),
    ('K25_point_subsidy_compliance', 'rows_within_cap', 'rows_with_subsidy')
], present='has_sheet', counts=['per_town', 'subsidy_rows']) }}
