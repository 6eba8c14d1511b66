-- DQ25_registry_count_mismatch: the key-group persons (docs/kpis.md, from the registers in force)
-- listed in the town's own 结对扶老 sheet for the month differ from the registers' count of
-- the town's key-group persons by more than 5%. One finding per workbook (no sheet or row:
-- a count over the whole sheet).
with counts as (
    select
        town_code,
        month,
        count(*) filter (where is_paired) as listed,
        count(*) as registered
    from {{ ref('int_person_monthly') }}
    where is_key_group
    group by town_code, month
),

found as (
    select
        s.town_code,
        s.month,
        s.file_id,
        cast(null as string) as sheet,
        cast(null as integer) as row_number,
        cast(null as string) as column_name,
        cast(coalesce(c.listed, 0) as string) || '/' || cast(coalesce(c.registered, 0) as string) as value,
        '结对扶老表「' || s.sheet_name || '」列入重点对象' || cast(coalesce(c.listed, 0) as string)
            || '人，名册中本镇街重点对象' || cast(coalesce(c.registered, 0) as string) || '人，相差超过5%' as what_zh,
        'the pairing sheet lists ' || cast(coalesce(c.listed, 0) as string) || ' key-group persons; the registers count '
            || cast(coalesce(c.registered, 0) as string) || ', a difference above 5%' as what_en
    from {{ ref('int_quality__own_sheets') }} as s
    left join counts as c on c.town_code = s.town_code and c.month = s.month
    where s.sheet_kind = 'pairings'
        and abs(coalesce(c.listed, 0) - coalesce(c.registered, 0)) > 0.05 * coalesce(c.registered, 0)
)

{{ quality_findings('DQ25_registry_count_mismatch') }}
