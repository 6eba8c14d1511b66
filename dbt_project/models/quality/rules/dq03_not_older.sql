-- DQ03_not_older: a person in the elderly database (at its export's month end) or in a
-- pairing sheet (at the report month's end) who is under 60, age from the ID's birth date.
with pairing_rows as (
    select
        town_code, month, file_id, sheet, row_number,
        '身份证号' as column_name,
        id_number,
        {{ age_at(birth_date_from_id('id_number'), month_end('month')) }} as age
    from ({{ own_sheet_rows('pairings', ['id_number']) }}) as p
    where id_number is not null
        -- the birth year first, as for the elderly rows below (a city's month of pairings 0.45 → 0.14 s)
        and {{ birth_year_from_id('id_number') }} >= year(month) - {{ older_person_age() }}
),

elderly_rows as (
    select
        r.town_code,
        cast(date_trunc('month', r.export_date) as date) as month,
        r.file_id,
        cast(null as string) as sheet,
        r.row_number,
        '公民身份号码' as column_name,
        r.id_number,
        {{ age_at(birth_date_from_id('r.id_number'), month_end('r.export_date')) }} as age
    from {{ ref('stg_registry__elderly') }} as r
    inner join {{ ref('stg_ingest__files') }} as f on f.file_id = r.file_id and f.file_status = 'loaded'
    where r.id_number is not null
        -- under 60 at the month's end means born in its year - 60 or later: the birth year is
        -- compared first, the age worked out for those rows only (a city's 6 M rows 1.8 → 0.7 s)
        and {{ birth_year_from_id('r.id_number') }} >= year(r.export_date) - {{ older_person_age() }}
),

found as (
    select
        town_code, month, file_id, sheet, row_number, column_name,
        {{ quality_mask_id('id_number') }} as value,
        '按身份证号计算，此人' || {{ quality_month_zh('month') }} || '末为' || cast(age as string) || '周岁，未满60周岁'
            as what_zh,
        'by the ID number this person is ' || cast(age as string) || ' at the end of '
            || {{ quality_month_en('month') }} || ', under 60' as what_en
    from (select * from pairing_rows union all select * from elderly_rows) as rows_checked
    where age < {{ older_person_age() }}
)

{{ quality_findings('DQ03_not_older') }}
