-- DQ13_area_below_standard: a built town centre below its project's minimum area (新建 2000 m²,
-- 改建 800 m²), or a built 单独设立 point (its main row) below 100 m².
with centres as (
    select
        f.town_code, f.month, f.file_id, s.sheet_name as sheet, f.row_number,
        f.area_m2, f.min_area_m2, f.facility_name as subject
    from {{ ref('int_facility_monthly') }} as f
    inner join {{ ref('int_quality__own_sheets') }} as s
        on s.file_id = f.file_id and s.month = f.month and s.sheet_kind = 'facilities'
    where f.facility_type = '镇养老服务中心' and f.is_built and f.area_m2 < f.min_area_m2
),

points as (
    select
        p.town_code, p.month, p.file_id, p.sheet, p.row_number,
        p.area_m2, {{ point_min_area_m2() }} as min_area_m2, p.village_name as subject
    from ({{ own_sheet_rows('village_points', ['village_name', 'is_sub_point', 'setup_mode', 'build_status', 'area_m2']) }}) as p
    where not p.is_sub_point
        and p.setup_mode = '单独设立'
        and p.build_status in {{ built_statuses() }}
        and p.area_m2 < {{ point_min_area_m2() }}
),

found as (
    select
        town_code, month, file_id, sheet, row_number,
        '建筑面积' as column_name,
        {{ quality_number('area_m2') }} as value,
        subject || '已建成，建筑面积' || {{ quality_number('area_m2') }} || '平方米，低于标准'
            || {{ quality_number('min_area_m2') }} || '平方米' as what_zh,
        'built with ' || {{ quality_number('area_m2') }} || ' m², below the minimum of '
            || {{ quality_number('min_area_m2') }} || ' m²' as what_en
    from (select * from centres union all select * from points) as below
)

{{ quality_findings('DQ13_area_below_standard') }}
