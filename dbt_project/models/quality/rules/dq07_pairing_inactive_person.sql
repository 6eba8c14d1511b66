-- DQ07_pairing_inactive_person: a pairing row for a person whose 特困 or 低保 row in force for
-- the month has the status 终止 or 注销.
-- Built month by month (macros/incremental_months.sql).
{{ config(materialized=incremental_by_month(), incremental_strategy='append', pre_hook="{{ delete_months_to_build() }}") }}
{{ month_by_month_dependencies() }}
with ended as (
    select
        month,
        person_key,
        min(case registry when 'tekun' then '特困人员名册' else '低保对象名册' end) as register_zh,
        min(case registry when 'tekun' then 'the 特困 register' else 'the 低保 register' end) as register_en,
        min(person_status) as person_status
    from {{ ref('int_registry_rows_monthly') }}
    where registry in ('tekun', 'dibao') and person_status in ('终止', '注销') and {{ in_months_to_build('month') }}
    group by month, person_key
),

found as (
    select
        p.town_code, p.month, p.file_id, p.sheet, p.row_number,
        '身份证号' as column_name,
        {{ quality_mask_id('p.id_number') }} as value,
        '此人在' || e.register_zh || '中的人员状态为「' || e.person_status || '」' as what_zh,
        'this person''s status in ' || e.register_en || ' is ' || e.person_status as what_en
    from ({{ own_sheet_rows('pairings', ['id_number', 'person_key']) }}) as p
    inner join ended as e on e.month = p.month and e.person_key = p.person_key
    where {{ in_months_to_build('p.month') }}
)

{{ quality_findings('DQ07_pairing_inactive_person') }}
