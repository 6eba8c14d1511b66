-- The registry rows in force per month (each registry's latest export on or before the
-- month's last day) of the elderly database, 特困 and 低保, with valid IDs only, any status: the
-- base of the person models and of the cross-registry rules (DQ04, DQ05, DQ07). `is_counted`
-- marks the row a person counts by: one per person and registry, the export's first row of an
-- active person (特困 and 低保 keep active persons only; every elderly-database row is active).
-- One model for both rather than one each over the same exports (docs/decisions.md).
-- Built month by month (macros/incremental_months.sql): only the exports serving a changed month are read.
{{ config(materialized=incremental_by_month(), incremental_strategy='append', pre_hook="{{ delete_months_to_build() }}") }}
{{ month_by_month_dependencies() }}
{% set registries = [
    ('elderly', 'stg_registry__elderly'),
    ('tekun', 'stg_registry__tekun'),
    ('dibao', 'stg_registry__dibao'),
] %}
with
{% for registry, model in registries %}
{{ registry }}_rows as (
    select
        r.file_id,
        '{{ registry }}' as registry,
        r.person_key,
        r.id_number,
        r.town_code,
        r.village_code,
        cast(r.row_number as integer) as row_number,
        cast(date_trunc('month', r.export_date) as date) as export_month,
        {% if registry == 'elderly' %}'正常'{% else %}r.person_status{% endif %} as person_status,
        {% if registry == 'elderly' %}r.living_situation, r.is_left_behind, r.ability_level,
        r.is_family_planning_special, r.has_smart_device,{% else %}cast(null as string) as living_situation,
        cast(null as boolean) as is_left_behind, cast(null as bigint) as ability_level,
        cast(null as boolean) as is_family_planning_special, cast(null as boolean) as has_smart_device,{% endif %}
        {% if registry == 'tekun' %}r.support_mode,{% else %}cast(null as string) as support_mode,{% endif %}
        {% if registry == 'dibao' %}r.assistance_category{% else %}cast(null as string) as assistance_category{% endif %}
    from {{ ref(model) }} as r
    where r.person_key is not null
        and r.file_id in (
            select file_id from {{ ref('int_effective_registries') }}
            where registry = '{{ registry }}' and {{ in_months_to_build('month') }}
        )
){% if not loop.last %},{% endif %}
{% endfor %},

all_rows as (
    {% for registry, model in registries %}
    select * from {{ registry }}_rows
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

counted_rows as (
    -- A person's first active row of each export, then spread over the months the export serves.
    -- Only a person listed twice in an export has rows that do not count: those few are found by
    -- grouping, and every other active row counts (a join on the first row number of every person
    -- built a hash table of all the rows: a city's month 1.9 s against 1.5 s; a window sorted
    -- them, slower still).
    select
        a.*,
        a.person_status = '正常' and (listed_twice.row_number is null or listed_twice.row_number = a.row_number)
            as is_counted
    from all_rows as a
    left join (
        select file_id, person_key, min(row_number) as row_number
        from all_rows
        where person_status = '正常'
        group by file_id, person_key
        having count(*) > 1
    ) as listed_twice on listed_twice.file_id = a.file_id and listed_twice.person_key = a.person_key
)

select
    e.month,
    c.registry,
    c.file_id,
    c.row_number,
    c.export_month,
    c.person_key,
    c.id_number,
    c.town_code,
    c.village_code,
    c.person_status,
    c.is_counted,
    c.living_situation,
    c.is_left_behind,
    c.ability_level,
    c.is_family_planning_special,
    c.has_smart_device,
    c.support_mode,
    c.assistance_category
from counted_rows as c
inner join {{ ref('int_effective_registries') }} as e on e.file_id = c.file_id and e.registry = c.registry
where {{ in_months_to_build('e.month') }}
