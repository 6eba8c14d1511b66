-- DQ22_village_not_reported: a village (村) of the town in the reference with no row in the
-- town's own 互助养老点 sheet for the month (no row number: the row is missing).
with found as (
    select
        v.town_code,
        v.month,
        s.file_id,
        s.sheet_name as sheet,
        cast(null as integer) as row_number,
        cast(null as string) as column_name,
        d.short_name as value,
        '本镇街的「' || d.short_name || '」在互助养老点表中没有填报' as what_zh,
        'the town''s village ' || d.short_name || ' has no row in the 互助养老点 sheet' as what_en
    from {{ ref('int_village_point_monthly') }} as v
    inner join {{ ref('int_quality__own_sheets') }} as s
        on s.town_code = v.town_code and s.month = v.month and s.sheet_kind = 'village_points'
    inner join {{ ref('dim_village') }} as d on d.village_code = v.village_code
    where not v.is_reported
)

{{ quality_findings('DQ22_village_not_reported') }}
