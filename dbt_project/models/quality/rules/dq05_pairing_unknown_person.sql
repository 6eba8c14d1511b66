-- DQ05_pairing_unknown_person: a pairing row whose (valid) ID is in none of the registries in
-- force for the month (elderly database, 特困, 低保; any status, any town).
-- Built month by month (macros/incremental_months.sql).
{{ config(materialized=incremental_by_month(), incremental_strategy='append', pre_hook="{{ delete_months_to_build() }}") }}
{{ month_by_month_dependencies() }}
with found as (
    select
        p.town_code, p.month, p.file_id, p.sheet, p.row_number,
        '身份证号' as column_name,
        {{ quality_mask_id('p.id_number') }} as value,
        '此身份证号不在' || {{ quality_month_zh('p.month') }} || '的农村老年人信息库、特困人员名册或低保对象名册中'
            as what_zh,
        'this ID number is in none of the registers in force for ' || {{ quality_month_en('p.month') }}
            || ' (elderly database, 特困, 低保)' as what_en
    from ({{ own_sheet_rows('pairings', ['id_number', 'person_key']) }}) as p
    -- The pairing rows looked up among the month's registry rows, not the registry rows made
    -- distinct first: a city's month 0.44 s, against 0.86–1.0 s so.
    where p.person_key is not null and {{ in_months_to_build('p.month') }} and not exists (
        select 1 from {{ ref('int_registry_rows_monthly') }} as r
        where r.month = p.month and r.person_key = p.person_key
    )
)

{{ quality_findings('DQ05_pairing_unknown_person') }}
