-- The villages behind K09-K13 per town and month (int_village_point_monthly, as
-- int_kpi__village_points counts them), each with the main row of the 互助养老点 sheet in force
-- that decides it, and the point rows behind K25.
{{ config(materialized='view') }}  -- read once, by kpi_members: no copy of millions of person rows
with villages as (
    select
        v.*,
        s.file_id,
        dv.short_name,
        case
            when not v.is_reported then '进度表中无此村'
            when v.main_row_number is null then '只有分点行，无主点位行'
            when v.has_built_own_point then '点位已建成（' || v.setup_mode || '，' || v.build_status || '）'
            when v.setup_mode = '合并设置' then '合并设置至' || coalesce(host_dv.short_name, v.merge_into_village_code, '（未填）')
                || case when host.has_built_own_point then '，该村点位已建成' else '，该村点位未建成' end
            when v.setup_mode in {{ no_point_needed_modes() }} then v.setup_mode
            when v.setup_mode in {{ own_point_modes() }} then '点位未建成（' || coalesce(v.build_status, '建设状态未填') || '）'
            else '设置方式未填或无法识别'
        end as point_state_zh
    from {{ ref('int_village_point_monthly') }} as v
    inner join {{ ref('int_effective_sheets') }} as s
        on s.town_code = v.town_code and s.month = v.month and s.sheet_kind = 'village_points'
    left join {{ ref('int_village_point_monthly') }} as host
        on host.town_code = v.town_code and host.month = v.month and host.village_code = v.merge_into_village_code
    inner join {{ ref('dim_village') }} as dv on dv.village_code = v.village_code
    left join {{ ref('dim_village') }} as host_dv on host_dv.village_code = v.merge_into_village_code
),

members as (
    select
        *,
        {{ member_columns('village', 'village_code', 'short_name', sheet_kind='village_points', source_row='main_row_number',
                          own=['village_code', 'file_id']) }}
    from villages
),

-- K25: the sub-point rows and each village's main row with a 设备购置补助 (int_kpi__village_points).
subsidy_rows as (
    select
        p.town_code,
        p.month,
        {{ member_columns('row', "p.file_id || ':' || cast(p.row_number as string)", 'p.point_name', 'p.village_code',
                          file_id='p.file_id', sheet_kind='village_points', source_row='p.row_number') }},
        p.equipment_subsidy_yuan
    from ({{ point_subsidy_rows() }}) as p
)

{{ kpi_member_rows('members', [
    {'kpi': 'K09_village_points_built', 'numerator': 'has_built_own_point', 'denominator': none,
     'reason': 'point_state_zh'},
    {'kpi': 'K10_village_coverage', 'numerator': 'is_covered', 'denominator': 'true',
     'reason': 'point_state_zh'},
    {'kpi': 'K11_point_area_compliance', 'numerator': 'area_m2 >= ' ~ point_min_area_m2(),
     'denominator': 'has_built_standalone_point',
     'reason': "case when area_m2 is null then '建筑面积未填或无法识别' else '建筑面积' || cast(area_m2 as string) || '㎡'
                || case when area_m2 >= " ~ point_min_area_m2() ~ " then '，达标' else '，不足" ~ point_min_area_m2() ~ "㎡' end end",
     'where': 'has_built_standalone_point'},
    {'kpi': 'K12_point_assistant_staffing', 'numerator': 'assistants >= 1', 'denominator': 'has_built_own_point',
     'reason': "case when assistants >= 1 then '配备养老助理' || cast(assistants as string) || '名' else '未配备养老助理' end",
     'where': 'has_built_own_point'},
    {'kpi': 'K13_village_three_ones', 'numerator': 'meets_three_ones', 'denominator': 'true',
     'reason': "case when not is_reported then '进度表中无此村' when meets_three_ones then '“三个一”达标'
                else '缺' || concat_ws('、',
                    case when not coalesce(has_elderly_association, false) then '老年协会' end,
                    case when max_assistants_any_row < 1 then '养老助理' end,
                    case when not coalesce(volunteer_teams >= 1, false) then '志愿服务队' end) end"}
]) }}
union all
{{ kpi_member_rows('subsidy_rows', [
    {'kpi': 'K25_point_subsidy_compliance',
     'numerator': 'equipment_subsidy_yuan <= ' ~ point_equipment_cap_yuan(), 'denominator': 'true',
     'reason': "case when equipment_subsidy_yuan is null then '设备购置补助无法识别'
                else '设备购置补助' || cast(equipment_subsidy_yuan as string) || '元'
                || case when equipment_subsidy_yuan <= " ~ point_equipment_cap_yuan() ~ " then '，未超过2万元' else '，超过2万元' end end"}
]) }}
