-- DQ18_bad_merge_target: a 合并设置 village whose 合并至 is the village itself, a village of the
-- town without a point of its own in the same sheet (its row says 合并设置 or 不设立, or it has
-- no row), or a village of another town (a name matching none of the town's villages but one
-- of another town's; a name matching no village at all is DQ08, reported at ingest).
with sheet_rows as (
    {{ own_sheet_rows('village_points', [
        'village_code', 'setup_mode', 'is_sub_point', 'merge_into_village_name', 'merge_into_village_code'
    ]) }}
),

main_rows as (
    select file_id, village_code, setup_mode
    from (
        select *, row_number() over (partition by file_id, village_code order by row_number) as occurrence
        from sheet_rows
        where village_code is not null and not coalesce(is_sub_point, false)
    ) as ranked
    where occurrence = 1
),

merging as (
    select
        r.*,
        regexp_replace(
            {{ regexp_replace_all('r.merge_into_village_name', '\\s') }}, '(村民委员会|居民委员会|村委会|居委会)$', ''
        ) as merge_into_clean
    from sheet_rows as r
    where r.setup_mode = '合并设置' and not coalesce(r.is_sub_point, false)
        and r.merge_into_village_name is not null
),

other_town_villages as (
    select m.file_id, m.row_number, min(t.town_name) as other_town_name
    from merging as m
    inner join {{ ref('dim_village') }} as v
        on v.town_code <> m.town_code
        and m.merge_into_clean in (v.village_name, v.short_name, regexp_replace(v.short_name, '(村|社区)$', ''))
    inner join {{ ref('dim_town') }} as t on t.town_code = v.town_code
    where m.merge_into_village_code is null
    group by m.file_id, m.row_number
),

judged as (
    select
        m.*,
        case
            when m.merge_into_village_code is not null and m.merge_into_village_code = m.village_code
                then '合并至本村自身'
            when m.merge_into_village_code is not null and target.file_id is null
                then '合并至的「' || m.merge_into_village_name || '」在本表中没有填报，无法确认其设有互助养老点'
            when m.merge_into_village_code is not null and target.setup_mode not in {{ own_point_modes() }}
                then '合并至的「' || m.merge_into_village_name || '」本身为「' || target.setup_mode || '」，没有互助养老点'
            when o.other_town_name is not null
                then '合并至的「' || m.merge_into_village_name || '」属于' || o.other_town_name || '，不是本镇街的村'
        end as what_zh,
        case
            when m.merge_into_village_code is not null and m.merge_into_village_code = m.village_code
                then 'the village is merged into itself'
            when m.merge_into_village_code is not null and target.file_id is null
                then 'the target village has no row in this sheet, so it has no point'
            when m.merge_into_village_code is not null and target.setup_mode not in {{ own_point_modes() }}
                then 'the target village is set ' || target.setup_mode || ' and has no point of its own'
            when o.other_town_name is not null
                then 'the target village belongs to another town'
        end as what_en
    from merging as m
    left join main_rows as target
        on target.file_id = m.file_id and target.village_code = m.merge_into_village_code
    left join other_town_villages as o on o.file_id = m.file_id and o.row_number = m.row_number
),

found as (
    select
        town_code, month, file_id, sheet, row_number, '合并至' as column_name, merge_into_village_name as value,
        what_zh, what_en
    from judged
    where what_zh is not null
)

{{ quality_findings('DQ18_bad_merge_target') }}
