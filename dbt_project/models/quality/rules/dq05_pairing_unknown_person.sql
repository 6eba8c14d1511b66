-- DQ05_pairing_unknown_person: a pairing row whose (valid) ID is in none of the registries in
-- force for the month (elderly database, 特困, 低保; any status, any town).
with registered as (
    select distinct month, person_key
    from {{ ref('int_quality__registry_rows') }}
),

found as (
    select
        s.town_code,
        s.month,
        s.file_id,
        s.sheet_name as sheet,
        p.row_number,
        '身份证号' as column_name,
        {{ quality_mask_id('p.id_number') }} as value,
        '此身份证号不在' || {{ quality_month_zh('s.month') }} || '的农村老年人信息库、特困人员名册或低保对象名册中'
            as what_zh,
        'this ID number is in none of the registers in force for ' || {{ quality_month_en('s.month') }}
            || ' (elderly database, 特困, 低保)' as what_en
    from {{ ref('int_quality__own_sheets') }} as s
    inner join {{ ref('stg_towns__pairings') }} as p on p.file_id = s.file_id
    left join registered as r on r.month = s.month and r.person_key = p.person_key
    where s.sheet_kind = 'pairings' and p.person_key is not null and r.person_key is null
)

{{ quality_findings('DQ05_pairing_unknown_person') }}
