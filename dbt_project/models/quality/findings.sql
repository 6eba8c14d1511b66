-- Every data-quality finding (quality.md): the ingest layer's per-source findings and the
-- cross-source SQL rules, one row per finding, personal values masked.
{% set sql_rules = [
    'dq03_not_older', 'dq04_id_two_towns', 'dq05_pairing_unknown_person', 'dq06_key_person_unpaired',
    'dq07_pairing_inactive_person', 'dq13_area_below_standard', 'dq15_status_regressed',
    'dq16_subsidy_over_cap', 'dq17_residents_mismatch', 'dq18_bad_merge_target',
    'dq20_merged_home_active', 'dq22_village_not_reported', 'dq23_submission_missing',
    'dq24_unknown_facility', 'dq25_registry_count_mismatch',
] %}
select
    cast(i.rule_id as varchar) as rule_id,
    cast(i.severity as varchar) as severity,
    'ingest' as layer,
    cast(i.town_code as varchar) as town_code,
    cast(i.month as date) as month,
    cast(i.file_id as varchar) as file_id,
    cast(i.source_file as varchar) as source_file,
    cast(i.sheet as varchar) as sheet,
    cast(i.row_number as integer) as row_number,
    cast(i.column_name as varchar) as column_name,
    cast(i.value as varchar) as value,
    cast(i.message_zh as varchar) as message_zh,
    cast(i.message_en as varchar) as message_en,
    r.fix_zh
from {{ source('raw', 'ingest_findings') }} as i
left join {{ ref('rule_catalogue') }} as r on r.rule_id = i.rule_id
{% for rule in sql_rules %}
union all
select * from {{ ref(rule) }}
{% endfor %}
