-- DQ20_merged_home_active: a home set 已撤并 that still reports residents, or a home the plan
-- merges away (撤并) that still reports residents while the new home it merges into is 已运营
-- in the same month's sheet.
with homes as (
    select f.*, s.sheet_name as sheet, p.merge_into, p.build_mode as plan_mode
    from {{ ref('int_facility_monthly') }} as f
    inner join {{ ref('int_quality__own_sheets') }} as s
        on s.file_id = f.file_id and s.month = f.month and s.sheet_kind = 'facilities'
    left join {{ ref('int_plan_projects') }} as p on p.project_id = f.project_id
    where f.facility_type = '敬老院'
        and (coalesce(f.residents, 0) > 0 or coalesce(f.tekun_residents, 0) > 0)
),

-- The plan names the new home by its project's facility name, in the same town.
new_homes_open as (
    select n.town_code, n.month, p.facility_name
    from {{ ref('int_facility_monthly') }} as n
    inner join {{ ref('int_plan_projects') }} as p on p.project_id = n.project_id
    where n.build_status = '已运营'
),

found as (
    select
        h.town_code, h.month, h.file_id, h.sheet, h.row_number,
        '在院人数' as column_name,
        cast(coalesce(h.residents, h.tekun_residents) as string) as value,
        case when h.build_status = '已撤并'
            then h.facility_name || '已撤并，仍填报在院人员' || cast(coalesce(h.residents, h.tekun_residents) as string) || '人'
            else h.facility_name || '按规划撤并并入' || h.merge_into || '，新院已运营，但本院仍填报在院人员'
                || cast(coalesce(h.residents, h.tekun_residents) as string) || '人'
        end as what_zh,
        case when h.build_status = '已撤并'
            then 'the home is merged away (已撤并) but still reports residents'
            else 'the plan merges this home into ' || h.merge_into || ', which is operating, but it still reports residents'
        end as what_en
    from homes as h
    where h.build_status = '已撤并'
        or (h.plan_mode = '撤并' and exists (
            select 1 from new_homes_open as n
            where n.town_code = h.town_code and n.month = h.month and n.facility_name = h.merge_into
        ))
)

{{ quality_findings('DQ20_merged_home_active') }}
