-- The facilities and plan projects behind K01-K08 and K27-K29 per town and month
-- (int_facility_monthly and the plan, as int_kpi__facilities counts them), each with its row
-- of the 机构设施 sheet in force. K05 is one member per town: the town itself.
{{ config(materialized='view') }}  -- read once, by kpi_members: no copy of millions of person rows
with sheet as (
    {{ sheet_in_force('facilities') }}
),

facilities as (
    select
        f.*,
        {{ member_columns('facility', 'f.facility_key', 'f.facility_name', sheet_kind='facilities', source_row='f.row_number',
                          own=['file_id']) }},
        f.facility_type = '失能特困人员集中照护中心' and f.is_built as is_built_care_centre,
        f.facility_type = '镇养老服务中心' and f.is_built as is_built_town_centre,
        f.facility_type || '，' || coalesce(f.build_status, '建设状态未填') as state_zh
    from {{ ref('int_facility_monthly') }} as f
),

-- Every plan project of the town in each month the town has the sheet, with the facility
-- reported for it (none when 机构设施 has no row matching its name).
projects as (
    select
        s.town_code,
        s.month,
        {{ member_columns('project', 'p.project_id', 'p.facility_name', file_id='s.file_id', sheet_kind='facilities',
                          source_row='f.row_number') }},
        p.build_mode,
        p.facility_type,
        f.is_built,
        f.build_status,
        case when f.row_number is null then '机构设施表中无此项目' else '报告建设状态：' || coalesce(f.build_status, '未填') end
            as state_zh
    from sheet as s
    inner join {{ ref('int_plan_projects') }} as p on p.town_code = s.town_code
    left join {{ ref('int_facility_monthly') }} as f
        on f.town_code = s.town_code and f.month = s.month and f.project_id = p.project_id
    where s.has_sheet
),

-- K05: the town, counted when one of its centres is built (the first such row decides).
towns as (
    select
        {{ member_columns('town', 's.town_code', 't.town_name', file_id='s.file_id', sheet_kind='facilities',
                          source_row='c.row_number') }},
        s.town_code,
        s.month,
        c.facility_name is not null as has_built_centre,
        coalesce('镇养老服务中心已建成：' || c.facility_name, '无已建成的镇养老服务中心') as state_zh
    from sheet as s
    inner join {{ ref('dim_town') }} as t on t.town_code = s.town_code
    left join (
        select
            town_code,
            month,
            facility_name,
            row_number,
            row_number() over (partition by town_code, month order by row_number) as occurrence
        from {{ ref('int_facility_monthly') }}
        where facility_type = '镇养老服务中心' and is_built
    ) as c on c.town_code = s.town_code and c.month = s.month and c.occurrence = 1
    where s.has_sheet
)

{{ kpi_member_rows('facilities', [
    {'kpi': 'K01_care_centres_built', 'numerator': 'is_built_care_centre', 'denominator': none,
     'reason': 'state_zh', 'where': "facility_type = '失能特困人员集中照护中心'"},
    {'kpi': 'K02_care_centre_nursing_bed_share', 'numerator': 'is_built_care_centre and nursing_beds is not null',
     'denominator': 'is_built_care_centre and beds is not null',
     'numerator_value': 'case when is_built_care_centre then nursing_beds end',
     'denominator_value': 'case when is_built_care_centre then beds end',
     'reason': "'护理型床位' || coalesce(cast(nursing_beds as string), '未填') || '张，床位' || coalesce(cast(beds as string), '未填') || '张'",
     'where': 'is_built_care_centre'},
    {'kpi': 'K06_centre_area_compliance', 'numerator': 'area_m2 >= min_area_m2', 'denominator': 'is_built_town_centre',
     'reason': "'建筑面积' || coalesce(cast(area_m2 as string) || '㎡', '未填或无法识别') || '，最低' || coalesce(cast(min_area_m2 as string) || '㎡', '未定')",
     'where': 'is_built_town_centre'},
    {'kpi': 'K07_centre_institution_run', 'numerator': 'is_socialised and has_operator', 'denominator': 'is_built_town_centre',
     'reason': "'运营方式：' || coalesce(operation_mode, '未填') || case when has_operator then '，已填运营机构' else '，未填运营机构' end",
     'where': 'is_built_town_centre'},
    {'kpi': 'K08_nursing_home_socialised_rate', 'numerator': 'is_socialised', 'denominator': 'is_operating_home',
     'reason': "'运营方式：' || coalesce(operation_mode, '未填')", 'where': 'is_operating_home'},
    {'kpi': 'K27_nursing_home_clinic_rate', 'numerator': 'has_clinic', 'denominator': 'is_operating_home',
     'reason': "case when has_clinic then '内设卫生室' else '未内设卫生室或未填' end", 'where': 'is_operating_home'},
    {'kpi': 'K28_nursing_home_registration_rate', 'numerator': 'is_legal_person_registered and is_filed',
     'denominator': 'is_operating_home',
     'reason': "case when is_legal_person_registered and is_filed then '已法人登记并备案'
                else '缺' || concat_ws('、', case when not coalesce(is_legal_person_registered, false) then '法人登记' end,
                                          case when not coalesce(is_filed, false) then '备案' end) end",
     'where': 'is_operating_home'}
]) }}
union all
{{ kpi_member_rows('projects', [
    {'kpi': 'K03_nursing_home_upgrades', 'numerator': 'is_built', 'denominator': none,
     'reason': 'state_zh', 'where': "build_mode = '改造升级'"},
    {'kpi': 'K04_nursing_home_new_builds', 'numerator': 'is_built', 'denominator': none,
     'reason': 'state_zh', 'where': "build_mode = '新建' and facility_type = '敬老院'"},
    {'kpi': 'K29_consolidation_completed', 'numerator': "build_status = '已撤并'", 'denominator': none,
     'reason': 'state_zh', 'where': "build_mode = '撤并'"}
]) }}
union all
{{ kpi_member_rows('towns', [
    {'kpi': 'K05_town_centre_coverage', 'numerator': 'has_built_centre', 'denominator': none, 'reason': 'state_zh'}
]) }}
