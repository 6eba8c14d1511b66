-- The registry rows in force per month (each registry's latest export on or before the
-- month's last day), with valid IDs only, one row per person and registry (the first row of
-- the export). 特困 and 低保 keep active persons only; every elderly-database row is active.
-- Built month by month (macros/incremental_months.sql): only the exports serving a changed month are read.
{{ config(materialized=incremental_by_month(), incremental_strategy='append', pre_hook="{{ delete_months_to_build() }}") }}
{{ month_by_month_dependencies() }}
{% set registries = [
    ('elderly', 'stg_registry__elderly', "true"),
    ('tekun', 'stg_registry__tekun', "r.person_status = '正常'"),
    ('dibao', 'stg_registry__dibao', "r.person_status = '正常'"),
] %}
with
{% for registry, model, active in registries %}
{{ registry }}_rows as (
    select
        r.file_id,
        '{{ registry }}' as registry,
        r.person_key,
        r.id_number,
        r.town_code,
        r.village_code,
        r.row_number,
        {% if registry == 'elderly' %}r.living_situation, r.is_left_behind, r.ability_level,
        r.is_family_planning_special, r.has_smart_device,{% else %}cast(null as string) as living_situation,
        cast(null as boolean) as is_left_behind, cast(null as bigint) as ability_level,
        cast(null as boolean) as is_family_planning_special, cast(null as boolean) as has_smart_device,{% endif %}
        {% if registry == 'tekun' %}r.support_mode,{% else %}cast(null as string) as support_mode,{% endif %}
        {% if registry == 'dibao' %}r.assistance_category{% else %}cast(null as string) as assistance_category{% endif %}
    from {{ ref(model) }} as r
    where r.person_key is not null and {{ active }}
        and r.file_id in (
            select file_id from {{ ref('int_effective_registries') }}
            where registry = '{{ registry }}' and {{ in_months_to_build('month') }}
        )
){% if not loop.last %},{% endif %}
{% endfor %},

all_rows as (
    {% for registry, model, active in registries %}
    select * from {{ registry }}_rows
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

first_rows as (
    -- A person's first row of each export, then spread over the months the export serves. Only
    -- a person listed twice in an export has rows to drop: those few are found by grouping, and
    -- every other row passes (a join on the first row number of every person built a hash table
    -- of all the rows: a city's month 1.9 s against 1.5 s; a window sorted them, slower still).
    select a.*
    from all_rows as a
    left join (
        select file_id, person_key, min(row_number) as row_number
        from all_rows
        group by file_id, person_key
        having count(*) > 1
    ) as listed_twice on listed_twice.file_id = a.file_id and listed_twice.person_key = a.person_key
    where listed_twice.row_number is null or listed_twice.row_number = a.row_number
)

select
    e.month,
    f.registry,
    f.person_key,
    f.id_number,
    f.town_code,
    f.village_code,
    f.row_number,
    f.living_situation,
    f.is_left_behind,
    f.ability_level,
    f.is_family_planning_special,
    f.has_smart_device,
    f.support_mode,
    f.assistance_category
from first_rows as f
inner join {{ ref('int_effective_registries') }} as e on e.file_id = f.file_id and e.registry = f.registry
where {{ in_months_to_build('e.month') }}
