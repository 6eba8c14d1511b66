-- DQ15_status_regressed: a facility (matched to the same plan project or name) or a village's
-- point whose 建设状态 is earlier in 未开工 → 在建 → 已建成 → 已运营 → 已撤并 than in the
-- town's version in force for the previous month. Only rows of the month's own sheet are reported.
with statuses as (
    select
        'facilities' as sheet_kind, town_code, month, facility_key as subject_key, row_number,
        facility_name as subject, build_status
    from {{ ref('int_facility_monthly') }}
    union all
    select 'village_points', town_code, month, village_code, main_row_number, village_name, build_status
    from {{ ref('int_village_point_monthly') }}
),

regressed as (
    select
        cur.town_code, cur.month, s.file_id, s.sheet_name as sheet, cur.row_number,
        cur.subject, prev.build_status as previous_status, cur.build_status
    from statuses as cur
    inner join {{ ref('int_quality__own_sheets') }} as s
        on s.town_code = cur.town_code and s.month = cur.month and s.sheet_kind = cur.sheet_kind
    inner join statuses as prev
        on prev.sheet_kind = cur.sheet_kind
        and prev.town_code = cur.town_code
        and prev.subject_key = cur.subject_key
        and prev.month = {{ add_months('cur.month', -1) }}
    where {{ quality_status_rank('cur.build_status') }} < {{ quality_status_rank('prev.build_status') }}
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
