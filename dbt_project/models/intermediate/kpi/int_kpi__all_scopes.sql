-- Every KPI's numerator and denominator per scope and month, with value and stale. Scopes:
-- the programme's towns (scope_level 'town'), their districts and the city (int_scope_areas).
-- An area adds up its towns' numerators and denominators, except: K17-K19 count distinct IDs
-- across its towns (int_kpi__training); K10 and K13 divide by all of its towns' villages;
-- stale when any of its towns is stale. district_code: the scope's district (null for the city).
with areas as (
    select * from {{ ref('int_scope_areas') }}
),

training_kpis as (
    select distinct kpi_id from {{ ref('int_kpi__training') }}
),

town_rows as (
    {% for family in ['int_kpi__facilities', 'int_kpi__village_points', 'int_kpi__pairing', 'int_kpi__registry',
                      'int_kpi__funds', 'int_kpi__submission'] %}
    select town_code as scope_code, month, kpi_id, numerator, denominator, is_stale from {{ ref(family) }}
    union all
    {% endfor %}
    select t.scope_code, t.month, t.kpi_id, t.numerator, t.denominator, t.is_stale
    from {{ ref('int_kpi__training') }} as t
    inner join {{ ref('int_scope_towns') }} as s on s.town_code = t.scope_code
),

area_villages as (
    select a.scope_code, sum(t.village_count) as village_count
    from areas as a
    inner join {{ ref('int_scope_towns') }} as t on t.town_code = a.town_code
    group by a.scope_code
),

area_rows as (
    select
        a.scope_code,
        r.month,
        r.kpi_id,
        sum(r.numerator) as numerator,
        case
            when r.kpi_id in ('K10_village_coverage', 'K13_village_three_ones')
                then case when sum(r.numerator) is not null then max(v.village_count) end
            else sum(r.denominator)
        end as denominator,
        max(case when r.is_stale then 1 else 0 end) = 1 as is_stale
    from town_rows as r
    inner join areas as a on a.town_code = r.scope_code
    inner join area_villages as v on v.scope_code = a.scope_code
    where r.kpi_id not in (select kpi_id from training_kpis)
    group by a.scope_code, r.month, r.kpi_id
    union all
    select t.scope_code, t.month, t.kpi_id, t.numerator, t.denominator, t.is_stale
    from {{ ref('int_kpi__training') }} as t
    where t.scope_code in (select scope_code from areas)
),

scope_levels as (
    select town_code as scope_code, 'town' as scope_level, district_code from {{ ref('int_scope_towns') }}
    union
    select scope_code, scope_level, district_code from areas
),

scoped as (
    select * from town_rows
    union all
    select * from area_rows
)

select
    l.scope_level,
    s.scope_code,
    l.district_code,
    s.month,
    s.kpi_id,
    cast(s.numerator as double) as numerator,
    cast(case when c.measure = 'rate' then s.denominator end as double) as denominator,
    cast(case when c.measure = 'rate' then s.numerator / nullif(s.denominator, 0) else s.numerator end as double)
        as value,
    coalesce(s.is_stale, false) as is_stale
from scoped as s
inner join scope_levels as l on l.scope_code = s.scope_code
inner join {{ ref('kpi_catalogue') }} as c on c.kpi_id = s.kpi_id
