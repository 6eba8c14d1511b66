-- DQ06_key_person_unpaired: a key-group person with no 一对一 pairing in the month, one
-- finding per person and month, at the person's registry row (quality.unpaired_key_persons).
-- The message leaves the masked name out: findings are published, and the masked ID of `value`
-- with the row already points at the person (the town's workbook lists the names).
with found as (
    select
        town_code,
        month,
        file_id,
        cast(null as string) as sheet,
        row_number,
        '公民身份号码' as column_name,
        id_masked as value,
        '重点对象' || coalesce('（' || village_name || '）', '')
            || '在' || {{ quality_month_zh('month') }} || '的结对扶老表中没有一对一结对' as what_zh,
        'key-group person with no one-to-one (一对一) pairing in the pairing sheet in force for '
            || {{ quality_month_en('month') }} as what_en
    from {{ ref('unpaired_key_persons') }}
)

{{ quality_findings('DQ06_key_person_unpaired') }}
