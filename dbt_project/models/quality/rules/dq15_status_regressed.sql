-- DQ15_status_regressed: a facility (matched to the same plan project or name) or a village's
-- point whose 建设状态 is earlier in 未开工 → 在建 → 已建成 → 已运营 → 已撤并 than in the
-- town's version in force for the previous month.
with facilities as (
    select
        'facilities' as sheet_kind, cur.town_code, cur.month, cur.file_id, cur.row_number,
        cur.facility_name as subject, prev.build_status as previous_status, cur.build_status
    from {{ ref('int_facility_monthly') }} as cur
    inner join {{ ref('int_facility_monthly') }} as prev
        on prev.town_code = cur.town_code
        and prev.facility_key = cur.facility_key
        and prev.month = cast(cur.month - interval 1 month as date)
    where {{ quality_status_rank('cur.build_status') }} < {{ quality_status_rank('prev.build_status') }}
),

points as (
    select
        'village_points' as sheet_kind, cur.town_code, cur.month, cur.file_id, cur.row_number,
        cur.village_name as subject, prev.build_status as previous_status, cur.build_status
    from (
        select v.*, s.file_id, v.main_row_number as row_number
        from {{ ref('int_village_point_monthly') }} as v
        inner join {{ ref('int_quality__own_sheets') }} as s
            on s.town_code = v.town_code and s.month = v.month and s.sheet_kind = 'village_points'
    ) as cur
    inner join {{ ref('int_village_point_monthly') }} as prev
        on prev.town_code = cur.town_code
        and prev.village_code = cur.village_code
        and prev.month = cast(cur.month - interval 1 month as date)
    where {{ quality_status_rank('cur.build_status') }} < {{ quality_status_rank('prev.build_status') }}
),

regressed as (
    select c.*, s.sheet_name as sheet
    from (select * from facilities union all select * from points) as c
    inner join {{ ref('int_quality__own_sheets') }} as s
        on s.file_id = c.file_id and s.month = c.month and s.sheet_kind = c.sheet_kind
),

found as (
    select
        town_code, month, file_id, sheet, row_number,
        '建设状态' as column_name,
        build_status as value,
        subject || '的建设状态由上月的「' || previous_status || '」退回为「' || build_status || '」' as what_zh,
        'status went back from ' || previous_status || ' last month to ' || build_status as what_en
    from regressed
)

{{ quality_findings('DQ15_status_regressed') }}
