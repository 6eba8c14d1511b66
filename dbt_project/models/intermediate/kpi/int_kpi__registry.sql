{{ config(materialized='view') }}  -- read once, by int_kpi__all_scopes (docs/decisions.md)
-- K20-K22, per town and month, from the registries alone (null while the registry a KPI
-- reads has no export yet). A town that sent no workbook for the month is still stale.
with exports as (
    select
        m.month,
        max(case when e.registry = 'elderly' then e.file_id end) as elderly_file_id,
        max(case when e.registry = 'family_doctor' then e.file_id end) as family_doctor_file_id
    from {{ ref('int_months') }} as m
    left join {{ ref('int_effective_registries') }} as e on e.month = m.month
    group by m.month
),

-- Every programme town and month, with whether the registers it reads have an export yet.
town_months as (
    select
        tm.town_code,
        tm.month,
        not tm.has_workbook as is_stale,
        x.elderly_file_id is not null as has_elderly,
        x.family_doctor_file_id is not null as has_family_doctor
    from {{ ref('int_town_months') }} as tm
    inner join exports as x on x.month = tm.month
),

database_rows as (
    select
        x.month,
        r.town_code,
        sum(case when r.person_key is not null and r.village_code is not null and r.living_situation is not null
                and r.is_left_behind is not null and r.ability_level is not null then 1 else 0 end) as complete_rows,
        count(*) as all_rows
    from exports as x
    inner join {{ ref('stg_registry__elderly') }} as r on r.file_id = x.elderly_file_id
    group by x.month, r.town_code
),

people as (
    select
        town_code,
        month,
        sum(case when in_elderly_database and has_family_doctor_contract then 1 else 0 end) as contracted,
        sum(case when in_elderly_database then 1 else 0 end) as in_database,
        sum(case when is_device_group and has_smart_device then 1 else 0 end) as device_equipped,
        sum(case when is_device_group then 1 else 0 end) as device_group
    from {{ ref('int_person_monthly') }}
    group by town_code, month
)

{{ kpi_rows('town_months', [
    ('K20_family_doctor_contract_rate', 'contracted', 'in_database')
], present='has_elderly and has_family_doctor', counts=['people']) }}
union all
{{ kpi_rows('town_months', [
    ('K21_elderly_database_completeness', 'complete_rows', 'all_rows'),
    ('K22_smart_device_coverage', 'device_equipped', 'device_group')
], present='has_elderly', counts=['people', 'database_rows']) }}
