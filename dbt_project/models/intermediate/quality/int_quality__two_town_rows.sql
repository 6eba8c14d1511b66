-- The people DQ04_id_two_towns looks at, per month: those with active registry rows in two
-- towns, or listed by two towns' pairing sheets, with each of their active rows and their home
-- town (that of the elderly database's row first, then 特困, then 低保; docs/kpis.md). A few
-- rows a month: DQ04 reads these, not every registry row of every month.
-- Built month by month (macros/incremental_months.sql).
{{ config(materialized=incremental_by_month(), incremental_strategy='append', pre_hook="{{ delete_months_to_build() }}") }}
{{ month_by_month_dependencies() }}
with active_rows as (
    select *
    from {{ ref('int_registry_rows_monthly') }}
    where person_status = '正常' and town_code is not null and {{ in_months_to_build('month') }}
),

listed as (
    {{ pairing_rows_in_force(in_months_to_build('es.month')) }}
),

listed_by_two as (
    {{ listed_by_two_towns('listed') }}
),

-- Only these can be a finding: the home town is worked out for them alone (a window over every
-- registry row is the cost).
candidates as (
    select month, person_key
    from active_rows
    group by month, person_key
    having min(town_code) <> max(town_code)
    union
    select month, person_key from listed_by_two
),

candidate_rows as (
    select r.*
    from active_rows as r
    inner join candidates as c on c.month = r.month and c.person_key = r.person_key
)

select
    month,
    person_key,
    town_code,
    export_month,
    file_id,
    row_number,
    id_number,
    first_value(town_code) over (
        partition by month, person_key
        order by {{ home_registry_order('registry') }}, row_number
    ) as home_town_code
from candidate_rows
