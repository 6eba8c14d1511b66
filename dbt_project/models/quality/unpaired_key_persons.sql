-- The list each town must act on (DQ06): key-group persons of the town with no 一对一 row
-- in its 结对扶老 sheet in force for the month, pointed to by their registry row, masked.
-- The feedback workbooks read it from the working database; the analyst copy gets only its
-- de-identified columns (person_key, village, age band, registry: pipelines/publish/database.py).
-- Built month by month (macros/incremental_months.sql).
{{ config(materialized=incremental_by_month(), incremental_strategy='append', pre_hook="{{ delete_months_to_build() }}") }}
{{ month_by_month_dependencies() }}
with unpaired as (
    select month, person_key, town_code, village_code, age, home_registry, home_row_number
    from {{ ref('int_person_monthly') }}
    where is_key_group and not is_paired_one_to_one and {{ in_months_to_build('month') }}
),

-- The person's own registry row, their home row in int_person_monthly (the elderly database
-- first, then 特困, then 低保, in the programme's towns), as kpi_members points to it.
home_row as (
    select
        u.month, u.person_key, u.town_code, u.village_code, u.age,
        u.home_registry as registry,
        u.home_row_number as row_number,
        e.file_id
    from unpaired as u
    inner join {{ ref('int_effective_registries') }} as e on e.month = u.month and e.registry = u.home_registry
),

named as (
    select
        h.*,
        coalesce(el.id_number, tk.id_number, db.id_number) as id_number,
        coalesce(el.person_name, tk.person_name, db.person_name) as person_name
    from home_row as h
    left join {{ ref('stg_registry__elderly') }} as el
        on h.registry = 'elderly' and el.file_id = h.file_id and el.row_number = h.row_number
    left join {{ ref('stg_registry__tekun') }} as tk
        on h.registry = 'tekun' and tk.file_id = h.file_id and tk.row_number = h.row_number
    left join {{ ref('stg_registry__dibao') }} as db
        on h.registry = 'dibao' and db.file_id = h.file_id and db.row_number = h.row_number
)

select
    n.month,
    n.town_code,
    n.village_code,
    v.short_name as village_name,
    n.person_key,
    {{ age_band('n.age') }} as age_band,
    n.age,
    {{ quality_mask_id('n.id_number') }} as id_masked,
    {{ quality_mask_name('n.person_name') }} as name_masked,
    n.registry,
    n.file_id,
    f.file_name as source_file,
    cast(n.row_number as integer) as row_number
from named as n
left join {{ ref('dim_village') }} as v on v.village_code = n.village_code
left join {{ ref('stg_ingest__files') }} as f on f.file_id = n.file_id
