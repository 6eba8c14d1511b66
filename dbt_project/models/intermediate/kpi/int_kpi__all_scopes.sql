-- Every KPI's numerator and denominator per scope (the 11 towns and the district) and month,
-- with value and stale. The district adds up its towns' numerators and denominators, except:
-- K17-K19 count distinct IDs across towns (int_kpi__training); K10 and K13 divide by all the
-- programme's villages; stale when any town is stale.
with town_rows as (
    {% for family in ['int_kpi__facilities', 'int_kpi__village_points', 'int_kpi__pairing', 'int_kpi__registry',
                      'int_kpi__funds', 'int_kpi__submission'] %}
    select town_code as scope_code, month, kpi_id, numerator, denominator, is_stale from {{ ref(family) }}
    union all
    {% endfor %}
    select scope_code, month, kpi_id, numerator, denominator, is_stale
    from {{ ref('int_kpi__training') }}
    where scope_code <> '{{ var("district_code") }}'
),

all_villages as (
    select sum(village_count) as village_count from {{ ref('int_scope_towns') }}
),

district_rows as (
    select
        '{{ var("district_code") }}' as scope_code,
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
    cross join all_villages as v
    where r.kpi_id not in (
        select distinct kpi_id from {{ ref('int_kpi__training') }}
    )
    group by r.month, r.kpi_id
    union all
    select scope_code, month, kpi_id, numerator, denominator, is_stale
    from {{ ref('int_kpi__training') }}
    where scope_code = '{{ var("district_code") }}'
),

scoped as (
    select * from town_rows
    union all
    select * from district_rows
)

select
    s.scope_code,
    s.month,
    s.kpi_id,
    cast(s.numerator as double) as numerator,
    cast(case when c.measure = 'rate' then s.denominator end as double) as denominator,
    cast(case when c.measure = 'rate' then s.numerator / nullif(s.denominator, 0) else s.numerator end as double)
        as value,
    coalesce(s.is_stale, false) as is_stale
from scoped as s
inner join {{ ref('kpi_catalogue') }} as c on c.kpi_id = s.kpi_id
