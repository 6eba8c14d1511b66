-- DQ04_id_two_towns: the same person in two towns. Across the registries in force for a month
-- the person's town is that of the elderly database first, then 特困, then 低保 (docs/kpis.md);
-- an active row placing them in another town is the finding (once per row, in its export's
-- month). In the pairing sheets, the same person listed by two towns in the same month: the
-- row of the town that is not the person's (registry town, else the lower town code). The people
-- concerned and their home towns come month by month from int_quality__two_town_rows.
with candidate_rows as (
    -- the people active in two towns or listed by two, each month, with their home town
    select * from {{ ref('int_quality__two_town_rows') }}
),

home as (
    select distinct month, person_key, home_town_code
    from candidate_rows
),

listed as (
    {{ pairing_rows_in_force() }}
),

listed_by_two as (
    {{ listed_by_two_towns('listed') }}
),

registry_found as (
    select
        r.town_code,
        r.export_month as month,
        r.file_id,
        cast(null as string) as sheet,
        r.row_number,
        '公民身份号码' as column_name,
        r.id_number,
        min(r.home_town_code) as other_town_code
    from candidate_rows as r
    where r.town_code <> r.home_town_code
    group by r.town_code, r.export_month, r.file_id, r.row_number, r.id_number
),

listed_by_two_towns as (
    select
        l.month,
        l.person_key,
        coalesce(min(h.home_town_code), min(l.town_code)) as rightful_town_code
    from listed as l
    inner join listed_by_two as t on t.month = l.month and t.person_key = l.person_key
    left join home as h on h.month = l.month and h.person_key = l.person_key
    group by l.month, l.person_key
),

pairing_found as (
    select
        l.town_code,
        l.month,
        l.file_id,
        s.sheet_name as sheet,
        l.row_number,
        '身份证号' as column_name,
        l.id_number,
        t.rightful_town_code as other_town_code
    from listed as l
    inner join listed_by_two_towns as t on t.month = l.month and t.person_key = l.person_key
    inner join {{ ref('int_quality__own_sheets') }} as s
        on s.file_id = l.file_id and s.month = l.month and s.sheet_kind = 'pairings'
    where l.town_code <> t.rightful_town_code
),

found as (
    select
        c.town_code, c.month, c.file_id, c.sheet, c.row_number, c.column_name,
        {{ quality_mask_id('c.id_number') }} as value,
        '同一人也登记在' || coalesce(t.town_name, c.other_town_code) || '，一人只能属于一个镇街' as what_zh,
        'the same person is also registered in ' || coalesce(t.town_name || ' (' || c.other_town_code || ')', c.other_town_code)
            || '; a person belongs to one town only'
            as what_en
    from (select * from registry_found union all select * from pairing_found) as c
    left join {{ ref('dim_town') }} as t on t.town_code = c.other_town_code
)

{{ quality_findings('DQ04_id_two_towns') }}
