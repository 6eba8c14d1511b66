-- People in KPIs per month (docs/kpis.md): every person with a valid ID on an active row of the
-- elderly database, the 特困 or the 低保 register whose registry town is a programme town,
-- aged 60 or more at the month's last day. A person belongs to the town and village of the
-- elderly-database row first, then 特困, then 低保. Group flags exactly as docs/kpis.md.
-- Built month by month (macros/incremental_months.sql).
{{ config(materialized=incremental_by_month(), incremental_strategy='append', pre_hook="{{ delete_months_to_build() }}") }}
{{ month_by_month_dependencies() }}
with registry_rows as (
    -- home_order: the row's rank as a person's home row (home_registry_order), null for a row
    -- outside the programme's towns, which is never one. The birth date rather than the ID is
    -- carried to the home row: an aggregate keeps a date as is but copies an 18-character text
    -- (a city's two months 10.5–11.2 s, with the ID 13.0–13.8 s).
    select
        r.*,
        case when t.town_code is not null then {{ home_registry_order('r.registry') }} end as home_order,
        {{ birth_date_from_id('r.id_number') }} as birth_date
    from {{ ref('int_registry_rows_monthly') }} as r
    left join {{ ref('int_scope_towns') }} as t on t.town_code = r.town_code
    where r.is_counted and {{ in_months_to_build('r.month') }}
),

persons as (
    -- One group per person and month: the home row (least home_order; one row per registry)
    -- and the flags from all rows. One aggregate rather than a window for the home row joined
    -- to the flags: a city's month 5.1 s against 3.6 s.
    select
        month,
        person_key,
        {% for column in ['town_code', 'village_code', 'registry', 'row_number', 'birth_date'] -%}
        {{ value_at_min(column, 'home_order') }} as home_{{ column }},
        {% endfor -%}
        max(case when registry = 'elderly' then 1 else 0 end) = 1 as in_elderly_database,
        max(case when registry = 'tekun' and support_mode = '分散供养' then 1 else 0 end) = 1 as is_dispersed_tekun,
        max(case when registry = 'tekun' and support_mode = '集中供养' then 1 else 0 end) = 1 as is_centralised_tekun,
        max(case when registry = 'dibao' and assistance_category in ('低保', '低保边缘') then 1 else 0 end) = 1
            as is_low_income,
        max(case when registry = 'elderly' and is_family_planning_special and ability_level >= 1 then 1 else 0 end) = 1
            as is_disabled_family_planning_special,
        max(case when registry = 'elderly' and living_situation = '独居' then 1 else 0 end) = 1 as lives_alone,
        max(case when registry = 'elderly' and is_left_behind then 1 else 0 end) = 1 as is_left_behind,
        max(case when registry = 'elderly' and has_smart_device then 1 else 0 end) = 1 as has_smart_device
    from registry_rows
    group by month, person_key
),

aged as (
    select
        p.month,
        p.person_key,
        p.home_town_code as town_code,
        p.home_village_code as village_code,
        p.home_registry,
        p.home_row_number,
        {{ age_at('p.home_birth_date', 'm.month_end') }} as age,
        p.in_elderly_database,
        p.is_dispersed_tekun,
        p.is_centralised_tekun,
        p.is_low_income,
        p.is_disabled_family_planning_special,
        p.lives_alone,
        p.is_left_behind,
        p.has_smart_device
    from persons as p
    inner join {{ ref('int_months') }} as m on m.month = p.month
    where p.home_registry is not null  -- null only when no row is of a programme town
),

grouped as (
    select
        a.*,
        a.age >= {{ high_age() }} as is_high_age,
        a.is_dispersed_tekun or a.is_low_income or a.is_disabled_family_planning_special as is_key_group
    from aged as a
    where a.age >= {{ older_person_age() }}
),

pairing_rows as (
    select es.town_code, es.month, p.person_key, p.pairing_mode, p.visits_this_month
    from {{ ref('int_effective_sheets') }} as es
    inner join {{ ref('stg_towns__pairings') }} as p on p.file_id = es.file_id
    where es.sheet_kind = 'pairings' and p.person_key is not null and {{ in_months_to_build('es.month') }}
),

pairing as (
    select
        town_code,
        month,
        person_key,
        max(case when pairing_mode = '一对一' then 1 else 0 end) = 1 as is_paired_one_to_one,
        max(case when pairing_mode in ('一对一', '网格化') then 1 else 0 end) = 1 as is_paired,
        max(case when visits_this_month >= 1 then 1 else 0 end) = 1 as is_visited
    from pairing_rows
    group by town_code, month, person_key
),

contracts as (
    -- Earliest 有效 contract per person in each export, then the months the export serves.
    select e.month, d.person_key
    from (
        select file_id, person_key, min(contract_date) as first_contract_date
        from {{ ref('stg_registry__family_doctor') }}
        where person_key is not null and contract_status = '有效'
            {% if is_incremental() %}and file_id in (
                select file_id from {{ ref('int_effective_registries') }}
                where registry = 'family_doctor' and {{ in_months_to_build('month') }}
            ){% endif %}
        group by file_id, person_key
    ) as d
    inner join {{ ref('int_effective_registries') }} as e on e.file_id = d.file_id and e.registry = 'family_doctor'
    inner join {{ ref('int_months') }} as m on m.month = e.month
    where d.first_contract_date <= m.month_end and {{ in_months_to_build('e.month') }}
)

select
    g.month,
    g.person_key,
    g.town_code,
    g.village_code,
    g.home_registry,  -- the row that gives the town and village (kpi_members' lineage)
    g.home_row_number,
    g.age,
    g.in_elderly_database,
    g.is_dispersed_tekun,
    g.is_centralised_tekun,
    g.is_low_income,
    g.is_disabled_family_planning_special,
    g.is_high_age,
    g.lives_alone,
    g.is_left_behind,
    g.is_key_group,
    not g.is_key_group and (g.is_high_age or g.lives_alone or g.is_left_behind) as is_grid_group,
    g.is_key_group or g.is_high_age or g.lives_alone as is_device_group,
    g.has_smart_device,
    coalesce(p.is_paired_one_to_one, false) as is_paired_one_to_one,
    coalesce(p.is_paired, false) as is_paired,
    coalesce(p.is_visited, false) as is_visited,
    c.person_key is not null as has_family_doctor_contract
from grouped as g
left join pairing as p
    on p.town_code = g.town_code and p.month = g.month and p.person_key = g.person_key
left join contracts as c on c.month = g.month and c.person_key = g.person_key
